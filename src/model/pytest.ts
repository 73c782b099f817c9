// Per-test figures (pytest): the metrics a test has, its outcome, and its entry in the Report.
import type { MetricKey } from "./metrics.js";
import type { MetricSummary, Site } from "./report.js";
import type { Status } from "./status.js";

/** The metrics measured per test: a subset of the scenario's, under the same names. */
export const TEST_METRIC_KEYS = [
  "peakHeap",
  "allocated",
  "allocations",
  "wallTime",
] as const satisfies readonly MetricKey[];
export type TestMetricKey = (typeof TEST_METRIC_KEYS)[number];

/** pytest's outcome of setup + call + teardown ("error": setup or teardown failed). */
export type TestOutcome = "passed" | "failed" | "error" | "skipped" | "xfailed" | "xpassed";

/** One test of a scenario, shaped like a scenario: its node id, status and judged metrics. */
export interface TestReport {
  /** pytest's node id, e.g. "tests/test_catalog.py::test_load[rows-200k]". */
  id: string;
  outcome: TestOutcome;
  status: Status;
  reason?: string;
  metrics: Partial<Record<TestMetricKey, MetricSummary>>;
  /** The test's own `limit_memory` marker, as written and in bytes (pytest-memray's units). */
  marker?: { text: string; bytes?: number };
  /** Where the test is defined: the file relative to the repository (as sites are) and the line. */
  location?: { file: string; line: number };
  /** What gave the test its budgets: "marker", a glob of the budget file, or both. */
  budgetFrom?: string[];
  /** Sampled sites live at the test's peak beyond what was live when it began (the tests whose heap grew most). */
  sites?: Site[];
}

/** Budgets for the tests whose node id matches `pattern` (`*` any run of characters, `?` one). */
export interface TestRule {
  pattern: string;
  budget: Partial<Record<TestMetricKey, number>>;
  /** Line of the pattern in the budget file. */
  line: number;
}

/** Counts and notes over all the scenario's tests (the `tests` list itself is bounded). */
export interface TestSummary {
  /** Tests measured in the head run. */
  total: number;
  over: number;
  regressed: number;
  new: number;
  removed: number;
  /** Where the heap figures came from ("interposer", "tracemalloc"), or why they are missing. */
  heapSource?: string;
  heapUnavailable?: string;
  /** What the measurement found amiss: node ids recorded twice, markers that are not a size. */
  warnings?: string[];
  /** The budget file's globs that matched no test (set by the judgement, from the rules it applied). */
  unmatched?: { pattern: string; line: number }[];
  /** Per budget-file rule, the largest figures among the tests it gave a budget to (`update` reads them). */
  rules?: RuleFigures[];
}

/** Every warning about a scenario's tests, in words: the measurement's, then the globs that matched none. */
export function testWarnings(summary: TestSummary): string[] {
  return [
    ...(summary.warnings ?? []),
    ...(summary.unmatched ?? []).map(
      (u) => `no test matches "${u.pattern}" (line ${u.line} of the budget file)`,
    ),
  ];
}

/** A figure of one test, as `update` needs it to budget the rule that governs it. */
export interface TestFigure {
  /** The test's node id. */
  id: string;
  value: number;
  min: number;
  max: number;
  runs: number;
  deterministic: boolean;
}

/**
 * One rule of the budget file's `tests`, and per metric it budgets the test with the largest figure
 * among those whose budget for that metric came from it: the list of tests is bounded, so a glob's
 * largest figure is kept here, over every test.
 */
export interface RuleFigures {
  pattern: string;
  largest: Partial<Record<TestMetricKey, TestFigure>>;
}

/** Tests listed besides the failing and regressed ones: the top N by peak heap. */
export const TOP_TESTS = 20;
