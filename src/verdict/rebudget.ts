// Puts a budget file's current budgets on a report's figures (`membudget check`). Pure.
import type { Plan } from "../config/types.js";
import type { MetricKey } from "../model/metrics.js";
import type { Report, ScenarioReport } from "../model/report.js";

/**
 * The report with each scenario's budgets (and tolerance) replaced by the plan's; scenarios the
 * plan no longer has keep theirs. Judge the result again to get the statuses.
 */
export function withBudgetsOf(report: Report, plan: Plan): Report {
  const byName = new Map(plan.scenarios.map((s) => [s.name, s]));
  const scenarios = report.scenarios.map((s): ScenarioReport => {
    const planned = byName.get(s.name);
    if (!planned) return s;
    const metrics: ScenarioReport["metrics"] = {};
    for (const [key, m] of Object.entries(s.metrics)) {
      const budget = planned.budget[key as MetricKey];
      const { budget: _old, ...rest } = m;
      metrics[key as MetricKey] = budget !== undefined ? { ...rest, budget } : rest;
    }
    const unavailable: NonNullable<ScenarioReport["unavailable"]> = {};
    for (const key of Object.keys(planned.budget) as MetricKey[]) {
      if (!metrics[key]) unavailable[key] = "not in the report";
    }
    const { unavailable: _u, ...kept } = s;
    return {
      ...kept,
      metrics,
      tolerance: planned.tolerance,
      source: planned.source,
      ...(Object.keys(unavailable).length > 0 ? { unavailable } : {}),
    };
  });
  return { ...report, scenarios };
}
