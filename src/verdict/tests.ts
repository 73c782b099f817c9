// Per-test figures and verdicts (pytest): the runs' tests summarised, then each test judged
// against its most specific budget (its own limit_memory marker, else the budget file's globs)
// and against the base by node id. Pure: no I/O.
import type { TestRule } from "../config/types.js";
import type { TestRun } from "../measure/pytest-probe.js";
import { figureInfo, METRICS } from "../model/metrics.js";
import type { MetricSummary, ScenarioReport } from "../model/report.js";
import { type Status, shownStatus, worst } from "../model/status.js";
import {
  type RuleFigures,
  type TestMetricKey,
  type TestReport,
  type TestSummary,
  TOP_TESTS,
} from "../model/tests.js";
import { median } from "./summarise.js";
import { judgeMetric } from "./verdict.js";

type RunTests = { tests?: TestRun; error?: string; instrumented?: boolean };

/** Heap figures from the instrumented runs; wall time from the clean runs only (none without one). */
export function summariseTests(runs: RunTests[]): { tests: TestReport[]; summary: TestSummary } | undefined {
  const withTests = runs.filter((r) => r.tests);
  if (withTests.length === 0) return undefined;
  const instrumented = withTests.filter((r) => r.instrumented !== false);
  const clean = withTests.filter((r) => r.instrumented === false);
  const primary = (instrumented[0] ?? withTests[0])!.tests!;
  const values = new Map<string, Partial<Record<TestMetricKey, number[]>>>();
  const add = (run: TestRun, keys: readonly TestMetricKey[]) => {
    for (const t of run.tests) {
      const entry = values.get(t.id) ?? {};
      for (const key of keys) {
        const v = t.figures[key];
        if (v === undefined) continue;
        const list = entry[key] ?? [];
        list.push(v);
        entry[key] = list;
      }
      values.set(t.id, entry);
    }
  };
  for (const r of instrumented) add(r.tests!, ["peakHeap", "allocated", "allocations"]);
  for (const r of clean) add(r.tests!, ["wallTime"]);
  const tests = primary.tests.map((t): TestReport => {
    const metrics: TestReport["metrics"] = {};
    for (const [key, list] of Object.entries(values.get(t.id) ?? {}) as [TestMetricKey, number[]][]) {
      if (list.length === 0) continue;
      const info = figureInfo("python", key);
      const value = median(list);
      const min = Math.min(...list);
      const max = Math.max(...list);
      metrics[key] = {
        value,
        min,
        max,
        spread: value === 0 ? 0 : (max - min) / value,
        runs: list.length,
        kind: info.kind,
        deterministic: info.deterministic,
        status: "unbudgeted",
      };
    }
    return {
      id: t.id,
      outcome: t.outcome,
      status: "pass",
      metrics,
      ...(t.marker ? { marker: t.marker } : {}),
      ...(t.location ? { location: t.location } : {}),
    };
  });
  const warnings = [...new Set(primary.duplicates)].map(
    (id) => `the node id ${id} was recorded by more than one process: the largest peak is kept`,
  );
  for (const t of tests) {
    if (t.marker && t.marker.bytes === undefined) {
      warnings.push(
        `${t.id}: limit_memory(${JSON.stringify(t.marker.text)}) is not a size pytest-memray reads (e.g. "24 MB")`,
      );
    }
  }
  const summary: TestSummary = {
    total: tests.length,
    over: 0,
    regressed: 0,
    new: 0,
    removed: 0,
    ...(primary.heapSource ? { heapSource: primary.heapSource } : {}),
    ...(primary.heapUnavailable ? { heapUnavailable: primary.heapUnavailable } : {}),
    ...(warnings.length > 0 ? { warnings } : {}),
  };
  return { tests, summary };
}

/** `*` is any run of characters, `?` one; everything else (brackets, `::`) is literal. */
export function globMatcher(pattern: string): RegExp {
  const body = [...pattern]
    .map((ch) => (ch === "*" ? ".*" : ch === "?" ? "." : ch.replace(/[.+^${}()|[\]\\/-]/g, "\\$&")))
    .join("");
  return new RegExp(`^${body}$`, "s");
}

function exactMatcher(id: string): RegExp {
  return new RegExp(`^${id.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&")}$`, "s");
}

/** A pattern without wildcards beats any glob; among globs, more literal characters win. */
function specificity(pattern: string): number {
  return /[*?]/.test(pattern) ? pattern.replace(/[*?]/g, "").length : Number.MAX_SAFE_INTEGER;
}

export interface JudgedTests {
  tests: TestReport[];
  testSummary: TestSummary;
  /** The tests' worst status as it counts for the scenario: error, over, regressed or pass. */
  status: Status;
  reason?: string;
}

/**
 * Judges a scenario's tests. `base` is the base report's scenario (undefined when it has none);
 * `hasBase` says whether there was a base report at all (new/removed need one).
 */
export function judgeTests(
  s: Pick<ScenarioReport, "tests" | "testSummary">,
  rules: readonly TestRule[],
  tolerance: number,
  base: Pick<ScenarioReport, "tests" | "testSummary"> | undefined,
): JudgedTests | undefined {
  if (!s.testSummary) {
    if (rules.length === 0) return undefined;
    const reason =
      "per-test budgets are set but no pytest process recorded its tests (is the command pytest, run by the Python probe?)";
    return {
      tests: [],
      testSummary: { total: 0, over: 0, regressed: 0, new: 0, removed: 0 },
      status: "error",
      reason,
    };
  }
  const head = (s.tests ?? []).filter((t) => t.status !== "removed");
  const headComplete = head.length === s.testSummary.total;
  const compiled = rules.map((r, order) => ({
    ...r,
    re: r.exact ? exactMatcher(r.pattern) : globMatcher(r.pattern),
    rank: r.exact ? Number.MAX_SAFE_INTEGER : specificity(r.pattern),
    order,
  }));
  const matched = new Set<string>();
  const baseTests = (base?.tests ?? []).filter((t) => t.status !== "removed");
  const baseById = new Map(baseTests.map((t) => [t.id, t]));
  const baseComplete = base?.testSummary !== undefined && baseTests.length === base.testSummary.total;
  const unmeasurable: string[] = [];
  const largest = new Map<string, RuleFigures["largest"]>(rules.map((r) => [r.pattern, {}]));
  const judged = head.map((t): TestReport => {
    const budget: Partial<Record<TestMetricKey, number>> = {};
    const source: Partial<Record<TestMetricKey, { pattern: string; rank: number }>> = {};
    for (const rule of compiled) {
      if (!rule.re.test(t.id)) continue;
      matched.add(rule.pattern);
      // Rules come in file order: on equal specificity the first one stays.
      for (const [key, value] of Object.entries(rule.budget) as [TestMetricKey, number][]) {
        if ((source[key]?.rank ?? -1) < rule.rank) {
          budget[key] = value;
          source[key] = { pattern: rule.pattern, rank: rule.rank };
        }
      }
    }
    // The test's own marker is more specific than any glob.
    if (t.marker?.bytes !== undefined) {
      budget.peakHeap = t.marker.bytes;
      source.peakHeap = { pattern: "marker", rank: Number.POSITIVE_INFINITY };
    }
    // A rule carried over from a judged report names the test itself: the test's sources stay as judged.
    const carried = compiled.some((r) => r.exact && r.pattern === t.id) && t.budgetFrom;
    const from = new Set(carried || Object.values(source).map((v) => v.pattern));
    for (const [key, { pattern }] of Object.entries(source) as [TestMetricKey, { pattern: string }][]) {
      const m = t.metrics[key];
      const kept = largest.get(pattern);
      if (!m || !kept || (kept[key] && kept[key].max >= m.max)) continue;
      kept[key] = {
        id: t.id,
        value: m.value,
        min: m.min,
        max: m.max,
        runs: m.runs,
        deterministic: m.deterministic,
      };
    }
    const b = baseById.get(t.id);
    const metrics: TestReport["metrics"] = {};
    for (const [key, m] of Object.entries(t.metrics) as [TestMetricKey, MetricSummary][]) {
      const bm = b?.metrics[key];
      const limit = budget[key];
      metrics[key] = judgeMetric({
        summary: {
          value: m.value,
          min: m.min,
          max: m.max,
          spread: m.spread,
          runs: m.runs,
          kind: m.kind,
          deterministic: m.deterministic,
        },
        metric: key,
        ...(limit !== undefined ? { budget: limit } : {}),
        ...(bm ? { base: { value: bm.value, min: bm.min, max: bm.max, runs: bm.runs } } : {}),
        tolerance,
      });
    }
    const { reason: _r, budgetFrom: _f, ...rest } = t;
    const out: TestReport = { ...rest, metrics, ...(from.size > 0 ? { budgetFrom: [...from] } : {}) };
    const missing = (Object.keys(budget) as TestMetricKey[]).filter((k) => !metrics[k]);
    if (missing.length > 0) {
      out.status = "error";
      out.reason = `budgeted but not measured per test: ${missing.join(", ")}`;
      unmeasurable.push(...missing);
      return out;
    }
    out.status = shownStatus(worst(Object.values(metrics).map((m) => m.status)));
    const worstMetric = Object.values(metrics).find((m) => m.status === out.status);
    if (worstMetric?.reason) out.reason = worstMetric.reason;
    if (out.status === "pass" && base && baseComplete && !b) {
      out.status = "new";
      out.reason = "not in the base";
    }
    return out;
  });
  // A bounded list (a report judged again) cannot tell which base tests are gone: the earlier
  // judgement, made on the whole run, did, and its removed tests stay while there is a base.
  const earlierRemoved = base ? (s.tests ?? []).filter((t) => t.status === "removed") : [];
  const removed: TestReport[] = !headComplete
    ? earlierRemoved
    : base
      ? baseTests
          .filter((t) => !judged.some((h) => h.id === t.id))
          .map((t) => ({
            id: t.id,
            outcome: t.outcome,
            status: "removed",
            reason: "in the base only",
            metrics: {},
          }))
      : [];
  const count = (st: Status) => judged.filter((t) => t.status === st).length;
  const warnings = [...(s.testSummary.warnings ?? []).filter((w) => !w.startsWith("no test matches"))];
  if (headComplete) {
    for (const r of rules) {
      if (!r.exact && !matched.has(r.pattern))
        warnings.push(`no test matches "${r.pattern}" (line ${r.line} of the budget file)`);
    }
  }
  const testSummary: TestSummary = {
    ...s.testSummary,
    over: count("over"),
    regressed: count("regressed"),
    // Counted over every test by the judgement that had them all (the list keeps up to 20 of each).
    new: headComplete ? count("new") : base ? s.testSummary.new : 0,
    removed: headComplete ? removed.length : base ? s.testSummary.removed : 0,
  };
  if (warnings.length > 0) testSummary.warnings = warnings;
  else delete testSummary.warnings;
  // Over every test, so only from a complete list; a re-judged report keeps what it had.
  if (headComplete) {
    // The budget file's own rules (not those carried over from a stored report, which name one test).
    const own = rules.filter((r) => !r.exact);
    if (own.length > 0)
      testSummary.rules = own.map((r) => ({ pattern: r.pattern, largest: largest.get(r.pattern) ?? {} }));
    else if (rules.length === 0) delete testSummary.rules;
  }
  const failing = judged.filter(
    (t) => t.status === "error" || t.status === "over" || t.status === "regressed",
  );
  const status = shownStatus(
    worst(
      failing.map((t) => t.status),
      "pass",
    ),
  );
  const result: JudgedTests = { tests: bounded(judged, removed), testSummary, status };
  if (unmeasurable.length > 0) {
    const why =
      s.testSummary.heapUnavailable ??
      (s.testSummary.heapSource === "tracemalloc"
        ? "tracemalloc gives the peak but counts no allocations: per-test totals need the allocation probe"
        : "the pytest plugin did not measure it");
    result.reason = `per-test ${[...new Set(unmeasurable)].join(", ")} budgeted but not measurable here (${why})`;
  } else if (status !== "pass") {
    const first = failing.find((t) => t.status === status)!;
    const n = failing.filter((t) => t.status === status).length;
    const word = status === "over" ? "over budget" : status === "regressed" ? "regressed" : "not measurable";
    result.reason = `${n} ${n === 1 ? "test" : "tests"} ${word}: ${first.id}: ${first.reason ?? status}`;
  }
  return result;
}

/** Every failing or regressed test, up to 20 new and 20 removed ones, and the top 20 by peak heap. */
function bounded(judged: TestReport[], removed: TestReport[]): TestReport[] {
  const keep = new Set<TestReport>();
  for (const t of judged)
    if (t.status === "error" || t.status === "over" || t.status === "regressed") keep.add(t);
  for (const t of byPeak(judged).slice(0, TOP_TESTS)) keep.add(t);
  for (const t of judged.filter((t) => t.status === "new").slice(0, TOP_TESTS)) keep.add(t);
  const order: Status[] = ["error", "over", "regressed", "new", "pass", "unbudgeted"];
  const listed = byPeak([...keep]).sort((a, b) => order.indexOf(a.status) - order.indexOf(b.status));
  return [...listed, ...removed.slice(0, TOP_TESTS)];
}

export function byPeak<T extends Pick<TestReport, "metrics">>(tests: T[]): T[] {
  return [...tests].sort((a, b) => (b.metrics.peakHeap?.value ?? -1) - (a.metrics.peakHeap?.value ?? -1));
}

/** The label of a test metric, for reasons and renderers. */
export function testMetricLabel(key: TestMetricKey): string {
  return METRICS[key].label;
}
