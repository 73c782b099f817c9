// Figures vs budgets vs base → statuses. Pure: no I/O.
import { METRICS, type MetricKey, type Unit } from "../model/metrics.js";
import type { MetricSummary, ScenarioReport } from "../model/report.js";
import { type Status, shownStatus, worst } from "../model/status.js";
import { formatValue } from "../model/units.js";
import { LEAK_FLOOR } from "./load.js";
import type { Summary } from "./summarise.js";

export interface JudgeInput {
  summary: Summary;
  metric: MetricKey;
  budget?: number;
  base?: { value: number; min: number; max: number; runs?: number };
  tolerance: number;
  /**
   * retainedPerRequest only: whether the leak rule held (src/verdict/load.ts). A slope above its
   * budget without a leak (the heap did not grow in every round) passes, with the reason.
   */
  leak?: boolean;
}

/**
 * One metric's status. `over` compares the median with the budget. `regressed` asks that the
 * head's minimum exceed the base's maximum by more than the tolerance, so that run-to-run noise
 * (which a deterministic figure does not have: there min = max) cannot flake a pull request, and
 * that the metric has a budget: an unbudgeted one stays "unbudgeted", its growth in the reason.
 */
export function judgeMetric({ summary, metric, budget, base, tolerance, leak }: JudgeInput): MetricSummary {
  // The figures by name: a summary read from a judged report brings its earlier judgement along.
  const { value, min, max, spread, runs, kind, deterministic } = summary;
  const judged: MetricSummary = { value, min, max, spread, runs, kind, deterministic, status: "pass" };
  if (budget !== undefined) judged.budget = budget;
  if (base) {
    judged.base = {
      value: base.value,
      min: base.min,
      max: base.max,
      ...(base.runs !== undefined ? { runs: base.runs } : {}),
    };
    if (base.value !== 0) judged.delta = (summary.value - base.value) / base.value;
  }
  const unit = METRICS[metric].unit;
  const notALeak = metric === "retainedPerRequest" && leak === false;
  if (budget !== undefined && summary.value > budget && notALeak) {
    judged.reason = `${METRICS[metric].label} ${formatValue(unit, summary.value)} is over its budget of ${formatValue(unit, budget)}, but the retained heap did not grow in every round after warm-up: not a leak`;
  } else if (budget !== undefined && summary.value > budget) {
    judged.status = "over";
    judged.reason = `${METRICS[metric].label} ${formatValue(unit, summary.value)} is over its budget of ${formatValue(unit, budget)}`;
  } else if (
    base &&
    canRegress(metric, summary, base) &&
    summary.min > base.max * (1 + tolerance) &&
    !notALeak &&
    summary.min - base.max >= (METRIC_FLOOR[metric] ?? REGRESSION_FLOOR[METRICS[metric].unit])
  ) {
    const grew = `${METRICS[metric].label} grew from ${formatValue(unit, base.value)} to ${formatValue(unit, summary.value)}, more than the ${(tolerance * 100).toFixed(1)}% tolerance`;
    // A budget says which figures matter: a figure without one is shown, with its growth, never judged.
    judged.status = budget === undefined ? "unbudgeted" : "regressed";
    judged.reason = budget === undefined ? `${grew} (not budgeted, so not judged)` : grew;
  } else if (budget === undefined) {
    judged.status = "unbudgeted";
  }
  return judged;
}

/**
 * The least absolute growth that can be a regression, so that a small script's few extra objects
 * (a new line of code allocates some) are not reported as a 5 % regression.
 */
const REGRESSION_FLOOR: Record<Unit, number> = {
  bytes: 256 * 1024,
  bytesPerSecond: 256 * 1024,
  count: 1000,
  seconds: 0,
  perSecond: 0,
};

/** Per-metric floors where the unit's would be wrong: a few collections more, a few bytes per request. */
const METRIC_FLOOR: Partial<Record<MetricKey, number>> = {
  gcCollections: 10,
  retainedPerRequest: LEAK_FLOOR,
};

/** Timings too noisy on shared runners to gate on by default (see docs/verdicts.md). */
const NEVER_REGRESSED: ReadonlySet<MetricKey> = new Set(["wallTime", "gcPause", "throughput"]);

/**
 * Whether a growth can be called a regression: a deterministic figure always can; a noisy one only
 * when both sides ran at least twice, so that their min…max ranges say something about the noise.
 */
function canRegress(
  metric: MetricKey,
  summary: Summary,
  base: { value: number; min: number; max: number; runs?: number },
): boolean {
  if (NEVER_REGRESSED.has(metric)) return false;
  if (summary.deterministic) return true;
  return summary.runs >= 2 && (base.runs ?? 1) >= 2;
}

/** The scenario's status: its worst metric, or error/new when those apply. */
export function scenarioStatus(
  s: Pick<ScenarioReport, "metrics" | "status">,
  hasBase: boolean,
  inBase: boolean,
): Status {
  if (s.status === "error") return "error";
  const metricStatus = worst(
    Object.values(s.metrics).map((m) => m.status),
    "pass",
  );
  const status = shownStatus(metricStatus);
  if (hasBase && !inBase && status === "pass") return "new";
  return status;
}
