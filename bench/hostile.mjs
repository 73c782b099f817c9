// Inputs at the sizes a generated budget file or a big pytest suite reaches (issue 28, item 5):
// validate, compare and merge must stay linear in them. The makers are here; run.mjs times them.
import { writeFileSync } from "node:fs";
import { join } from "node:path";

export const HOSTILE_BENCH = { UNKNOWN_KEYS: 70_000, TESTS: [10_000, 20_000] };

/** A budget file whose one scenario has `n` keys the schema does not know (a 759 KB file at 70k). */
export function unknownKeysBudgetFile(dir, n) {
  const keys = Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 1]));
  const file = join(dir, `unknown-${n}.json`);
  writeFileSync(file, JSON.stringify({ scenarios: { a: { run: "true", ...keys } } }));
  return file;
}

/**
 * A report of one pytest scenario with `n` tests, each with its own budget rule as the judgement
 * applied it, made from a real measured report (`measured`): what compare judges again and merge combines.
 */
export function testsReport(dir, measured, n, name = `tests-${n}.json`) {
  const report = structuredClone(measured);
  const s = report.scenarios[0];
  s.tests = Array.from({ length: n }, (_, i) => ({
    id: `tests/test_module_${i % 100}.py::test_case_${i}`,
    outcome: "passed",
    status: "pass",
    metrics: {
      peakHeap: {
        value: 1000 + i,
        min: 1000 + i,
        max: 1000 + i,
        spread: 0,
        runs: 1,
        kind: "exact",
        deterministic: true,
        status: "pass",
      },
    },
  }));
  s.testSummary = { total: n, over: 0, regressed: 0, new: 0, removed: 0 };
  s.applied = {
    budget: { ...(s.applied?.budget ?? {}) },
    tests: s.tests.map((t, i) => ({ pattern: t.id, budget: { peakHeap: 2000 + i }, line: i + 1 })),
  };
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify(report));
  return file;
}
