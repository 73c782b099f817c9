// The trend over the default branch: a regressed or failing scenario's figure in each of the
// branch's last stored reports, so that a creep no single pull request shows becomes visible.
import type { MetricKey } from "../model/metrics.js";
import type { Report, ScenarioReport, TrendPoint } from "../model/report.js";

/** A stored report of the default branch, with its commit and the run that stored it. */
export interface StoredOfBranch {
  report: Report;
  commit: string;
  run?: string;
}

/**
 * The head report with each regressed or over-budget scenario's trend: for every metric that
 * regressed or went over, its value in each stored report (given newest first, as the runs are
 * listed), oldest first. The judgement is untouched: the budgets still decide.
 */
export function withTrend(report: Report, stored: StoredOfBranch[], branch: string): Report {
  if (stored.length === 0) return report;
  const oldestFirst = [...stored].reverse();
  let changed = false;
  const scenarios = report.scenarios.map((s): ScenarioReport => {
    const metrics: Partial<Record<MetricKey, TrendPoint[]>> = {};
    for (const [key, summary] of Object.entries(s.metrics) as [
      MetricKey,
      NonNullable<ScenarioReport["metrics"][MetricKey]>,
    ][]) {
      if (summary.status !== "over" && summary.status !== "regressed") continue;
      const points: TrendPoint[] = [];
      for (const one of oldestFirst) {
        const value = one.report.scenarios.find((o) => o.name === s.name)?.metrics[key]?.value;
        if (value === undefined) continue;
        points.push({ commit: one.commit, value, ...(one.run ? { run: one.run } : {}) });
      }
      if (points.length > 0) metrics[key] = points;
    }
    if (Object.keys(metrics).length === 0) return s;
    changed = true;
    return { ...s, trend: { branch, metrics } };
  });
  return changed ? { ...report, scenarios } : report;
}
