// Per-test figures and verdicts (pytest): the runs' tests summarised, then each test judged
// against its most specific budget (its own limit_memory marker, else the budget file's globs)
// and against the base by node id. Pure: no I/O.

import type { TestRun } from "../measure/pytest-probe.js";
import { figureInfo } from "../model/metrics.js";
import { largest, smallest } from "../model/numbers.js";
import {
  type RuleFigures,
  type TestMetricKey,
  type TestReport,
  type TestRule,
  type TestSummary,
  TOP_TESTS,
} from "../model/pytest.js";
import type { MetricSummary, ScenarioReport } from "../model/report.js";
import { median } from "../model/stats.js";
import { NEEDS_ATTENTION, type Status, shownStatus, worst } from "../model/status.js";
import { plural } from "../model/units.js";
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
      const min = smallest(list);
      const max = largest(list);
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
      ...(t.sites ? { sites: t.sites } : {}),
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

/**
 * `*` is any run of characters, `?` one; everything else (brackets, `::`) is literal. Matched
 * without a regular expression (a report can carry a node id or pattern of 60,000 characters):
 * the part before the first `*` anchored at the start, the part after the last at the end, and
 * each part between at its leftmost place after the one before (which leaves the most room for
 * the rest, so it is never wrong), found by indexOf when it has no `?`.
 */
export function globMatches(pattern: string, text: string): boolean {
  const parts = pattern.split("*");
  if (parts.length === 1) return matchHere(pattern, text, 0) === text.length;
  const from = matchHere(parts[0]!, text, 0);
  const last = parts.at(-1)!;
  const to = last.includes("?")
    ? matchBack(last, text)
    : text.endsWith(last)
      ? text.length - last.length
      : -1;
  if (from < 0 || to < from) return false;
  let at = from;
  for (const part of parts.slice(1, -1)) {
    if (!part.includes("?")) {
      const found = text.indexOf(part, at);
      if (found < 0 || found + part.length > to) return false;
      at = found + part.length;
      continue;
    }
    let end = -1;
    for (let start = at; start <= to && end < 0; start += codePointLength(text, start)) {
      const e = matchHere(part, text, start);
      if (e >= 0 && e <= to) end = e;
    }
    if (end < 0) return false;
    at = end;
  }
  return true;
}

function codePointLength(text: string, at: number): number {
  return (text.codePointAt(at) ?? 0) > 0xffff ? 2 : 1;
}

/** Where `part` (no `*`) ends when it matches `text` at `at`, or -1. */
function matchHere(part: string, text: string, at: number): number {
  let i = at;
  for (const ch of part) {
    if (i >= text.length) return -1;
    const n = codePointLength(text, i);
    if (ch !== "?" && text.slice(i, i + n) !== ch) return -1;
    i += n;
  }
  return i;
}

/** Where `part` (no `*`) starts when it matches the end of `text`, or -1. */
function matchBack(part: string, text: string): number {
  let i = text.length;
  for (const ch of [...part].reverse()) {
    if (i <= 0) return -1;
    const n = i >= 2 && (text.codePointAt(i - 2) ?? 0) > 0xffff ? 2 : 1;
    if (ch !== "?" && text.slice(i - n, i) !== ch) return -1;
    i -= n;
  }
  return i;
}

/** A pattern without wildcards beats any glob; among globs, more literal characters win. */
function specificity(pattern: string): number {
  return /[*?]/.test(pattern) ? pattern.replace(/[*?]/g, "").length : Number.MAX_SAFE_INTEGER;
}

type Ranked = TestRule & { literal: boolean; rank: number; order: number };

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
  // A rule without wildcards names one node id: looked up by it, so that judging n tests against
  // n such rules stays linear.
  const byId = new Map<string, Ranked[]>();
  const globs: Ranked[] = [];
  rules.forEach((r, order) => {
    const literal = !/[*?]/.test(r.pattern);
    const ranked = { ...r, literal, rank: literal ? Number.MAX_SAFE_INTEGER : specificity(r.pattern), order };
    if (!literal) globs.push(ranked);
    else byId.set(r.pattern, [...(byId.get(r.pattern) ?? []), ranked]);
  });
  const matched = new Set<string>();
  const baseTests = (base?.tests ?? []).filter((t) => t.status !== "removed");
  const baseById = new Map(baseTests.map((t) => [t.id, t]));
  const baseComplete = base?.testSummary !== undefined && baseTests.length === base.testSummary.total;
  const unmeasurable: string[] = [];
  const largestTest = new Map<string, RuleFigures["largest"]>(rules.map((r) => [r.pattern, {}]));
  const judged = head.map((t): TestReport => {
    const budget: Partial<Record<TestMetricKey, number>> = {};
    const source: Partial<Record<TestMetricKey, { pattern: string; rank: number }>> = {};
    const own = byId.get(t.id) ?? [];
    const candidates = own.length > 0 ? [...own, ...globs].sort((a, b) => a.order - b.order) : globs;
    for (const rule of candidates) {
      if (!rule.literal && !globMatches(rule.pattern, t.id)) continue;
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
    const from = new Set(Object.values(source).map((v) => v.pattern));
    for (const [key, { pattern }] of Object.entries(source) as [TestMetricKey, { pattern: string }][]) {
      const m = t.metrics[key];
      const kept = largestTest.get(pattern);
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
        summary: m,
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
  const headIds = new Set(judged.map((t) => t.id));
  const removed: TestReport[] =
    base && headComplete
      ? baseTests
          .filter((t) => !headIds.has(t.id))
          .map((t) => ({
            id: t.id,
            outcome: t.outcome,
            status: "removed",
            reason: "in the base only",
            metrics: {},
          }))
      : [];
  const count = (st: Status) => judged.filter((t) => t.status === st).length;
  // A glob can be said to match nothing only when every test was measured.
  const unmatched = headComplete
    ? rules.filter((r) => !matched.has(r.pattern)).map((r) => ({ pattern: r.pattern, line: r.line }))
    : [];
  // The measurement's part by name: a summary read from a judged report brings its counts along.
  const { total, heapSource, heapUnavailable, warnings } = s.testSummary;
  const testSummary: TestSummary = {
    total,
    over: count("over"),
    regressed: count("regressed"),
    new: count("new"),
    removed: removed.length,
    ...(heapSource ? { heapSource } : {}),
    ...(heapUnavailable ? { heapUnavailable } : {}),
    ...(warnings ? { warnings } : {}),
    ...(unmatched.length > 0 ? { unmatched } : {}),
  };
  // Over every test, so only from a complete list; a summary judged again keeps what it had.
  const rulesSeen = headComplete
    ? rules.map((r) => ({ pattern: r.pattern, largest: largestTest.get(r.pattern) ?? {} }))
    : s.testSummary.rules;
  if (rulesSeen && rulesSeen.length > 0) testSummary.rules = rulesSeen;
  const failing = judged.filter((t) => NEEDS_ATTENTION.has(t.status));
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
    result.reason = `${plural(n, "test")} ${word}: ${first.id}: ${first.reason ?? status}`;
  }
  return result;
}

/** Every failing or regressed test, up to 20 new and 20 removed ones, and the top 20 by peak heap. */
function bounded(judged: TestReport[], removed: TestReport[]): TestReport[] {
  const keep = new Set<TestReport>();
  for (const t of judged) if (NEEDS_ATTENTION.has(t.status)) keep.add(t);
  for (const t of byPeak(judged).slice(0, TOP_TESTS)) keep.add(t);
  for (const t of judged.filter((t) => t.status === "new").slice(0, TOP_TESTS)) keep.add(t);
  const order: Status[] = ["error", "over", "regressed", "new", "pass", "unbudgeted"];
  const listed = byPeak([...keep]).sort((a, b) => order.indexOf(a.status) - order.indexOf(b.status));
  return [...listed, ...removed.slice(0, TOP_TESTS)];
}

export function byPeak<T extends Pick<TestReport, "metrics">>(tests: T[]): T[] {
  return [...tests].sort((a, b) => (b.metrics.peakHeap?.value ?? -1) - (a.metrics.peakHeap?.value ?? -1));
}
