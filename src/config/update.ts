// Rewrites the budgets of a budget file from measured figures plus headroom, keeping the file's
// comments and layout (`membudget update`, `membudget init`). Pure: text and a report in, text out.
import { applyEdits, type FormattingOptions, modify } from "jsonc-parser";
import { figureInfo, METRICS, type MetricKey } from "../model/metrics.js";
import { TEST_METRIC_KEYS, type TestMetricKey } from "../model/pytest.js";
import type { Report, ScenarioReport } from "../model/report.js";
import { formatPercent, formatValue, roundUpBudget } from "../model/units.js";
import type { Scenario } from "./types.js";

export interface BudgetUpdate {
  scenario: string;
  metric: MetricKey;
  /** The key under the scenario's `tests` (a glob, or a node id) when the budget is a per-test rule's. */
  test?: string;
  from?: number;
  to: number;
  text: string | number;
  /** How the budget was reached, in words: "largest run 87.2 MiB + 15.0%". */
  why: string;
}

export interface UpdateOptions {
  /** Fraction added on top of the largest measured value (0.1 = 10 %). */
  headroom: number;
  /** Metrics to (re)budget; default: those each scenario already budgets. */
  metrics?: MetricKey[];
  /** Also write a rule of its own for each of the N listed tests with the largest peak heap. */
  largestTests?: number;
}

/** What `update` needs of a scenario of the plan: its budgets and its per-test rules. */
export type Budgeted = Pick<Scenario, "budget" | "tests">;

/** A figure over a scenario's (or a test's) runs: the median, and the range the runs covered. */
export interface Figure {
  value: number;
  min: number;
  max: number;
  runs: number;
  deterministic: boolean;
}

/**
 * The least margin above the largest run that a figure which varies from run to run needs for the
 * next run of the same code to pass. Timings on a shared runner halve or double from one job to the
 * next (docs/verdicts.md), far more than the runs of one job show; a rate is a size over a time.
 * PSS is sampled, so a short peak is caught in one run and missed in the next; RSS and sampled heaps
 * otherwise move by a few percent.
 */
const NOISE: Partial<Record<MetricKey, number>> = {
  wallTime: 1,
  gcPause: 1,
  allocationRate: 1,
  p50Latency: 1,
  p99Latency: 1,
  peakPss: 0.25,
};
const NOISE_OTHERWISE = 0.1;

/** Runs that show how much a figure varies: the least `update` measures a noisy figure with. */
export const NOISY_RUNS = 3;

/**
 * How many times `update` runs a scenario: its repeat, raised to NOISY_RUNS when a figure about to
 * be budgeted (`metrics`, else those it budgets, its tests' included) varies from run to run, so
 * that its budget is set from the range of several runs rather than from one.
 */
export function updateRepeat(scenario: Scenario, metrics?: readonly MetricKey[]): number {
  const budgeted = [
    ...(metrics ?? (Object.keys(scenario.budget) as MetricKey[])),
    ...(scenario.tests ?? []).flatMap((r) => Object.keys(r.budget) as MetricKey[]),
  ];
  const noisy = budgeted.some((m) => !figureInfo(scenario.runtime, m).deterministic);
  return noisy ? Math.max(scenario.repeat, NOISY_RUNS) : scenario.repeat;
}

/**
 * The budget for a figure: its largest run plus the headroom asked; for a figure that varies from
 * run to run, plus at least twice the range the runs covered (and the metric's least margin, NOISE)
 * when that is more; never below `floor` (a rule's own threshold, e.g. the leak rule's bytes per
 * request). Rounded up by `roundUpBudget` (at most 2 % more).
 */
export function budgetFor(
  metric: MetricKey,
  figure: Figure,
  headroom: number,
  floor?: number,
): { value: number; text: string | number; why: string } {
  const unit = METRICS[metric].unit;
  const f = (v: number) => formatValue(unit, v);
  let fraction = headroom;
  let why = `largest run ${f(figure.max)} + ${formatPercent(headroom)}`;
  if (!figure.deterministic && figure.max > 0) {
    const range = (figure.max - figure.min) / figure.max;
    const noise = Math.max(NOISE[metric] ?? NOISE_OTHERWISE, 2 * range);
    if (noise > headroom) {
      fraction = noise;
      why =
        figure.runs > 1
          ? `largest run ${f(figure.max)} + ${formatPercent(noise)} (the ${figure.runs} runs ranged ${f(figure.min)}–${f(figure.max)}; the figure varies from run to run)`
          : `largest run ${f(figure.max)} + ${formatPercent(noise)} (one run; the figure varies from run to run)`;
    }
  }
  let raw = figure.max * (1 + fraction);
  if (floor !== undefined && raw < floor) {
    raw = floor;
    why =
      metric === "peakPss"
        ? `the peak RSS's budget, ${f(floor)}: the sampled PSS (largest run ${f(figure.max)}) can miss a short peak`
        : `the rule's floor, ${f(floor)} (measured ${f(figure.max)})`;
  }
  return { ...roundUpBudget(unit, raw), why };
}

/**
 * New budgets for every scenario of the report (and the per-test rules of pytest scenarios): see
 * budgetFor. `budgets` holds the budget file's scenarios by name; only those are updated. `notes`
 * say what was left alone and why.
 */
export function budgetUpdates(
  report: Report,
  budgets: Map<string, Budgeted>,
  options: UpdateOptions,
): { updates: BudgetUpdate[]; notes: string[] } {
  const updates: BudgetUpdate[] = [];
  const notes: string[] = [];
  for (const s of report.scenarios) {
    const current = budgets.get(s.name);
    if (!current || s.status === "error" || s.status === "removed") continue;
    const metrics = options.metrics ?? (Object.keys(current.budget) as MetricKey[]);
    for (const metric of metrics) {
      const measured = s.metrics[metric];
      if (!measured) continue;
      const next = budgetFor(metric, measured, options.headroom, floorOf(s, metric, options.headroom));
      if (current.budget[metric] === next.value) continue;
      const from = current.budget[metric];
      updates.push({
        scenario: s.name,
        metric,
        ...(from !== undefined ? { from } : {}),
        to: next.value,
        ...next,
      });
    }
    const tests = testUpdates(s, current, options);
    updates.push(...tests.updates);
    if (tests.note) notes.push(`${s.name}: ${tests.note}`);
  }
  return { updates, notes };
}

/**
 * A metric's own floor: the leak rule's bytes per request for retainedPerRequest; for peakPss the
 * budget the exact peak RSS gets. PSS is sampled, so the runs of a short program can all miss its
 * peak, and a process's PSS never exceeds its RSS: a PSS budget at least the RSS one holds.
 */
function floorOf(s: ScenarioReport, metric: MetricKey, headroom: number): number | undefined {
  if (metric === "retainedPerRequest") return s.load?.floor;
  const rss = s.metrics.peakRss;
  if (metric === "peakPss" && rss) return budgetFor("peakRss", rss, headroom).value;
  return undefined;
}

/** The budgets of a scenario's per-test rules, from the largest test each rule governs. */
function testUpdates(
  s: ScenarioReport,
  current: Budgeted,
  options: UpdateOptions,
): { updates: BudgetUpdate[]; note?: string } {
  const updates: BudgetUpdate[] = [];
  const figures = new Map((s.testSummary?.rules ?? []).map((r) => [r.pattern, r.largest]));
  const rules = current.tests ?? [];
  // A rule's largest test depends on every other rule (the most specific one wins): figures judged
  // under other rules than the file's would budget some tests from the wrong rule.
  const judgedUnder = (s.testSummary?.rules ?? []).map((r) => r.pattern).join("\n");
  if (rules.length > 0 && judgedUnder !== rules.map((r) => r.pattern).join("\n")) {
    return {
      updates: [],
      note: s.testSummary?.rules
        ? "per-test budgets not updated: the report was judged under other test rules than the budget file's (run update without --from)"
        : "per-test budgets not updated: the report has no figures per test rule (run update without --from)",
    };
  }
  for (const rule of rules) {
    for (const [metric, from] of Object.entries(rule.budget) as [TestMetricKey, number][]) {
      const largest = figures.get(rule.pattern)?.[metric];
      if (!largest) continue;
      const next = budgetFor(metric, largest, options.headroom);
      if (from === next.value) continue;
      updates.push({
        scenario: s.name,
        metric,
        test: rule.pattern,
        from,
        to: next.value,
        text: next.text,
        why: `${next.why}, ${largest.id}`,
      });
    }
  }
  if (!options.largestTests) return { updates };
  const own = new Set(rules.map((r) => r.pattern));
  const largest = (s.tests ?? [])
    .filter((t) => t.status !== "removed" && t.metrics.peakHeap && !t.marker?.bytes && !/[*?]/.test(t.id))
    .sort((a, b) => b.metrics.peakHeap!.max - a.metrics.peakHeap!.max)
    .slice(0, options.largestTests);
  for (const t of largest) {
    if (own.has(t.id)) continue; // its own rule is updated above
    // The metrics its rules budget, and its peak heap.
    const metrics = TEST_METRIC_KEYS.filter(
      (k) => t.metrics[k] && (k === "peakHeap" || t.metrics[k]!.budget !== undefined),
    );
    for (const metric of metrics) {
      const next = budgetFor(metric, t.metrics[metric]!, options.headroom);
      updates.push({ scenario: s.name, metric, test: t.id, to: next.value, text: next.text, why: next.why });
    }
  }
  return { updates };
}

/** The budget file's text with the updates applied; everything else (comments, order, layout) stays. */
export function applyBudgetUpdates(text: string, updates: BudgetUpdate[]): string {
  const formattingOptions: FormattingOptions = {
    insertSpaces: true,
    tabSize: 2,
    eol: text.includes("\r\n") ? "\r\n" : "\n",
  };
  let out = text;
  for (const u of updates) {
    const path = u.test === undefined ? ["budget", u.metric] : ["tests", u.test, u.metric];
    out = applyEdits(out, modify(out, ["scenarios", u.scenario, ...path], u.text, { formattingOptions }));
  }
  return out;
}
