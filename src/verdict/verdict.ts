// Figures vs budgets vs base → statuses. Pure: no I/O.
import { formatValue } from "../render/format.js";
import { METRICS, type MetricKey, type Unit } from "../report/metrics.js";
import { type MetricSummary, type ScenarioReport, STATUS_ORDER, type Status } from "../report/types.js";
import type { Summary } from "./summarise.js";

export function worst(statuses: Status[], empty: Status = "pass"): Status {
  let best = STATUS_ORDER.length;
  for (const s of statuses) best = Math.min(best, STATUS_ORDER.indexOf(s));
  return STATUS_ORDER[best] ?? empty;
}

export interface JudgeInput {
  summary: Summary;
  metric: MetricKey;
  budget?: number;
  base?: { value: number; min: number; max: number; runs?: number };
  tolerance: number;
}

/**
 * One metric's status. `over` compares the median with the budget. `regressed` asks that the
 * head's minimum exceed the base's maximum by more than the tolerance, so that run-to-run noise
 * (which a deterministic figure does not have: there min = max) cannot flake a pull request.
 */
export function judgeMetric({ summary, metric, budget, base, tolerance }: JudgeInput): MetricSummary {
  const judged: MetricSummary = { ...summary, status: "pass" };
  if (budget !== undefined) judged.budget = budget;
  if (base) {
    judged.base = { value: base.value, min: base.min, max: base.max };
    if (base.value !== 0) judged.delta = (summary.value - base.value) / base.value;
  }
  const unit = METRICS[metric].unit;
  if (budget !== undefined && summary.value > budget) {
    judged.status = "over";
    judged.reason = `${METRICS[metric].label} ${formatValue(unit, summary.value)} is over its budget of ${formatValue(unit, budget)}`;
  } else if (
    base &&
    canRegress(metric, summary, base) &&
    summary.min > base.max * (1 + tolerance) &&
    summary.min - base.max >= (metric === "gcCollections" ? 10 : REGRESSION_FLOOR[METRICS[metric].unit])
  ) {
    judged.status = "regressed";
    judged.reason = `${METRICS[metric].label} grew from ${formatValue(unit, base.value)} to ${formatValue(unit, summary.value)}, more than the ${(tolerance * 100).toFixed(1)}% tolerance`;
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
};

/** Timings too noisy on shared runners to gate on by default (see README, "Verdicts"). */
const NEVER_REGRESSED: ReadonlySet<MetricKey> = new Set(["wallTime", "gcPause"]);

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
  const status = metricStatus === "unbudgeted" ? "pass" : metricStatus;
  if (hasBase && !inBase && status === "pass") return "new";
  return status;
}

/** "2 of 14 scenarios over budget" — the verdict in words, worst news first. */
export function verdictSentence(scenarios: Pick<ScenarioReport, "status">[]): string {
  const total = scenarios.filter((s) => s.status !== "removed").length;
  const count = (st: Status) => scenarios.filter((s) => s.status === st).length;
  const parts: string[] = [];
  const errors = count("error");
  const over = count("over");
  const regressed = count("regressed");
  if (errors) parts.push(`${errors} of ${total} ${plural(total, "scenario")} failed to run`);
  if (over)
    parts.push(
      `${parts.length ? `${over}` : `${over} of ${total} ${plural(total, "scenario")}`} over budget`,
    );
  if (regressed)
    parts.push(
      `${parts.length ? `${regressed}` : `${regressed} of ${total} ${plural(total, "scenario")}`} regressed`,
    );
  if (parts.length === 0) {
    if (total === 0) return "No scenarios ran";
    return total === 1 ? "1 scenario within budget" : `All ${total} scenarios within budget`;
  }
  return parts.join(", ");
}

function plural(n: number, word: string): string {
  return n === 1 ? word : `${word}s`;
}
