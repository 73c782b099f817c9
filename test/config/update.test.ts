import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parsePlan } from "../../src/config/plan.js";
import { applyBudgetUpdates, budgetFor, budgetUpdates } from "../../src/config/update.js";
import type { TestReport } from "../../src/model/pytest.js";
import type { Report, ScenarioReport } from "../../src/model/report.js";
import { parseIn, roundUpBudget } from "../../src/model/units.js";
import { judge } from "../../src/verdict/judge.js";
import { MiB, report } from "../helpers/reports.js";

const FILE = `{
  // budgets of the catalog service
  "scenarios": {
    "load": {
      "run": "python3 load.py",
      "budget": { "peakHeap": "48 MiB", "wallTime": "2s" } // raised in #12
    },
    "parse": { "run": "python3 parse.py" }
  }
}
`;

const planOf = (text: string) =>
  new Map(parsePlan(text, "membudget.json", "/repo/membudget.json").scenarios.map((s) => [s.name, s]));

describe("membudget update", () => {
  const measured = report([
    {
      name: "load",
      runs: [
        { peakHeap: 60 * MiB, wallTime: 1.1 },
        { peakHeap: 62 * MiB, wallTime: 1.3 },
      ],
    },
    { name: "parse", runs: [{ peakHeap: 5 * MiB, allocations: 123_456 }] },
  ]);
  const budgets = planOf(FILE);

  it("sets a deterministic figure to its largest run plus the headroom, and a noisy one from its runs' range", () => {
    const { updates } = budgetUpdates(measured, budgets, { headroom: 0.1 });
    expect(updates.map((u) => [u.scenario, u.metric, u.text])).toEqual([
      // 62 × 1.1 = 68.2, rounded up to a step of 1 (the largest 1/2/5 step within 2 %)
      ["load", "peakHeap", "69 MiB"],
      // a time varies from run to run: at least double the largest run, whatever was asked
      ["load", "wallTime", "2.6 s"],
    ]);
    expect(updates[1]?.why).toBe(
      "largest run 1.30 s + 100% (the 2 runs ranged 1.10 s–1.30 s; the figure varies from run to run)",
    );
  });

  it("budgets the metrics asked for, even where there was no budget", () => {
    const { updates } = budgetUpdates(measured, budgets, { headroom: 0.2, metrics: ["allocations"] });
    // 123,456 × 1.2 = 148,147.2 → a step of 2 k
    expect(updates.map((u) => [u.scenario, u.metric, u.text])).toEqual([["parse", "allocations", "150 k"]]);
  });

  it("keeps the file's comments and layout, and the result is a valid budget file", () => {
    const text = applyBudgetUpdates(FILE, budgetUpdates(measured, budgets, { headroom: 0.1 }).updates);
    expect(text).toContain("// budgets of the catalog service");
    expect(text).toContain('"budget": { "peakHeap": "69 MiB", "wallTime": "2.6 s" } // raised in #12');
    const plan = parsePlan(text, "membudget.json", "/repo/membudget.json");
    expect(plan.scenarios[0]?.budget).toEqual({ peakHeap: 69 * MiB, wallTime: 2.6 });
  });
});

describe("the headroom rule", () => {
  it("gives 15 % as 17 %, not 26 %: 87.2 MiB → 102 MiB (two significant figures made it 110)", () => {
    const b = budgetFor(
      "peakHeap",
      { value: 87.2 * MiB, min: 87.2 * MiB, max: 87.2 * MiB, runs: 1, deterministic: true },
      0.15,
    );
    expect(b.text).toBe("102 MiB");
  });

  it("never writes less than the headroom asked, nor more than 2 % (or one byte or count) above it", () => {
    fc.assert(
      fc.property(
        fc.constantFrom("bytes", "count", "seconds", "bytesPerSecond", "perSecond" as const),
        fc.double({ min: 1e-4, max: 1e13, noNaN: true }),
        fc.double({ min: 0, max: 2, noNaN: true }),
        (unit, figure, headroom) => {
          const raw = figure * (1 + headroom);
          const { value, text } = roundUpBudget(unit, raw);
          // What a budget file with this text means, to the byte.
          const syntax = {
            bytes: "size",
            count: "count",
            seconds: "duration",
            bytesPerSecond: "rate",
            perSecond: "frequency",
          } as const;
          expect(parseIn(syntax[unit], text)).toBe(value);
          const whole = unit === "bytes" || unit === "count" || unit === "bytesPerSecond";
          expect(value).toBeGreaterThanOrEqual(raw - (whole ? 1e-9 : raw * 1e-12));
          expect(value).toBeLessThanOrEqual(raw * 1.02 + (whole ? 1 : 0));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("gives a noisy figure twice its runs' range, at least its metric's margin: the 28 ms p99 that 29.1 ms broke is now 56 ms", () => {
    const one = { value: 0.028, min: 0.028, max: 0.028, runs: 1, deterministic: false };
    expect(budgetFor("p99Latency", one, 0.15).text).toBe("56 ms");
    const rss = { value: 100 * MiB, min: 90 * MiB, max: 110 * MiB, runs: 3, deterministic: false };
    // 2 × 20 MiB over 110 MiB = 36.4 %
    expect(budgetFor("peakRss", rss, 0.15).text).toBe("150 MiB");
    expect(budgetFor("peakRss", { ...rss, min: 109 * MiB }, 0.05).text).toBe("122 MiB");
  });

  it("never sets retainedPerRequest below the leak rule's floor", () => {
    const load = { ...measured("svc", { retainedPerRequest: 3.7 }) };
    load.load = {
      driver: "http",
      requests: 600,
      rounds: 6,
      warmup: 1,
      perRound: [],
      run: 1,
      leak: false,
      floor: 16,
      why: "not a leak",
    };
    const r: Report = { ...report([]), scenarios: [load] };
    const { updates } = budgetUpdates(r, new Map([["svc", { budget: { retainedPerRequest: 64 } }]]), {
      headroom: 0.15,
    });
    expect(updates.map((u) => [u.metric, u.text, u.why])).toEqual([
      ["retainedPerRequest", "16 B", "the rule's floor, 16 B (measured 4 B)"],
    ]);
  });
});

function measured(name: string, figures: Record<string, number>): ScenarioReport {
  return report([{ name, runs: [figures] }]).scenarios[0]!;
}

describe("per-test budgets", () => {
  const TESTS = `{
  "scenarios": {
    "suite": {
      "run": "python3 -m pytest -q tests",
      "tests": {
        "tests/test_big.py::*": { "peakHeap": "30 MiB" },
        "tests/*::*": { "peakHeap": "1 MiB", "wallTime": "2s" }
      }
    }
  }
}
`;
  const test = (id: string, peak: number, wall: number, extra: Partial<TestReport> = {}): TestReport => ({
    id,
    outcome: "passed",
    status: "pass",
    metrics: {
      peakHeap: {
        value: peak,
        min: peak,
        max: peak,
        spread: 0,
        runs: 1,
        kind: "exact",
        deterministic: true,
        status: "unbudgeted",
      },
      wallTime: {
        value: wall,
        min: wall,
        max: wall * 1.1,
        spread: 0.1,
        runs: 2,
        kind: "exact",
        deterministic: false,
        status: "unbudgeted",
      },
    },
    ...extra,
  });
  const plan = planOf(TESTS);
  const suite = plan.get("suite")!;
  const tests = [
    test("tests/test_big.py::test_load", 40 * MiB, 0.5),
    test("tests/test_small.py::test_a", 2 * MiB, 0.2),
    test("tests/test_small.py::test_b", 3 * MiB, 0.9),
    test("tests/test_marked.py::test_m", 50 * MiB, 0.1, { marker: { text: "60 MB", bytes: 60 * MiB } }),
  ];
  const raw: Report = {
    ...report([]),
    scenarios: [
      {
        ...measured("suite", { peakHeap: 60 * MiB }),
        tests,
        testSummary: { total: tests.length, over: 0, regressed: 0, new: 0, removed: 0 },
      },
    ],
  };
  const judged = judge(raw, {
    budgets: new Map([["suite", { budget: {}, tolerance: 0.02, tests: suite.tests! }]]),
  });

  it("the judgement keeps, per rule, its largest test over every test (the listed ones are bounded)", () => {
    const rules = judged.scenarios[0]?.testSummary?.rules;
    expect(rules?.map((r) => [r.pattern, r.largest.peakHeap?.id, r.largest.wallTime?.id])).toEqual([
      ["tests/test_big.py::*", "tests/test_big.py::test_load", undefined],
      // test_load's wall time comes from the broader glob; the marked test's heap from its marker
      ["tests/*::*", "tests/test_small.py::test_b", "tests/test_small.py::test_b"],
    ]);
  });

  it("sets each rule from the largest test it governs, and writes rules of their own for the largest tests", () => {
    const { updates, notes } = budgetUpdates(judged, plan, { headroom: 0.1, largestTests: 2 });
    expect(notes).toEqual([]);
    expect(updates.map((u) => [u.test, u.metric, u.text])).toEqual([
      ["tests/test_big.py::*", "peakHeap", "44 MiB"],
      ["tests/*::*", "peakHeap", "3.3 MiB"],
      // 0.99 s: twice the range of its runs (10 %) is less than the 100 % a time needs
      ["tests/*::*", "wallTime", "1.98 s"],
      // the marked test is left to its marker; a rule of its own budgets what the test's rules did
      ["tests/test_big.py::test_load", "peakHeap", "44 MiB"],
      ["tests/test_big.py::test_load", "wallTime", "1.1 s"],
      ["tests/test_small.py::test_b", "peakHeap", "3.3 MiB"],
      ["tests/test_small.py::test_b", "wallTime", "1.98 s"],
    ]);
    const text = applyBudgetUpdates(TESTS, updates);
    const rules = planOf(text).get("suite")?.tests;
    expect(rules?.map((r) => [r.pattern, r.budget])).toEqual([
      ["tests/test_big.py::*", { peakHeap: 44 * MiB }],
      ["tests/*::*", { peakHeap: Math.round(3.3 * MiB), wallTime: 1.98 }],
      ["tests/test_big.py::test_load", { peakHeap: 44 * MiB, wallTime: 1.1 }],
      ["tests/test_small.py::test_b", { peakHeap: Math.round(3.3 * MiB), wallTime: 1.98 }],
    ]);
  });

  it("leaves per-test budgets alone, saying why, when the report was judged under other rules", () => {
    const other = planOf(TESTS.replace('"tests/test_big.py::*"', '"tests/test_big.py::test_*"'));
    const { updates, notes } = budgetUpdates(judged, other, { headroom: 0.1 });
    expect(updates.filter((u) => u.test)).toEqual([]);
    expect(notes).toEqual([
      "suite: per-test budgets not updated: the report was judged under other test rules than the budget file's (run update without --from)",
    ]);
  });
});

describe("a sampled PSS", () => {
  it("is budgeted at least as the exact peak RSS is: its runs can all miss a short peak", () => {
    // Three runs of a short program whose PSS sampler saw 1.6–2.9 MiB of a 9 MiB peak.
    const r = report([
      {
        name: "short",
        runs: [
          { peakRss: 13.2 * MiB, peakPss: 1.6 * MiB },
          { peakRss: 13.3 * MiB, peakPss: 2.9 * MiB },
        ],
      },
    ]);
    const { updates } = budgetUpdates(r, new Map([["short", { budget: { peakRss: 1, peakPss: 1 } }]]), {
      headroom: 0.05,
    });
    expect(updates.map((u) => [u.metric, u.text])).toEqual([
      ["peakRss", "14.8 MiB"],
      ["peakPss", "14.8 MiB"],
    ]);
    expect(updates[1]?.why).toMatch(/^the peak RSS's budget, 14\.8 MiB: the sampled PSS/);
  });
});
