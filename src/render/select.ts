// Which rows a table shows: the metrics of a scenario worth a line, worst first.
import { METRIC_KEYS, type MetricKey } from "../report/metrics.js";
import type { MetricSummary, ScenarioReport } from "../report/types.js";
import { worst } from "../verdict/verdict.js";

export interface Row {
  scenario: ScenarioReport;
  metric?: MetricKey;
  summary?: MetricSummary;
}

const ATTENTION = new Set(["error", "over", "regressed"]);

export function needsAttention(s: ScenarioReport): boolean {
  return ATTENTION.has(s.status);
}

/** Budgeted metrics, and any metric that changed status; a scenario without either gets one row. */
export function rowsOf(s: ScenarioReport, all = false): Row[] {
  const rows: Row[] = [];
  for (const metric of METRIC_KEYS) {
    const summary = s.metrics[metric];
    if (!summary) continue;
    if (all || summary.budget !== undefined || ATTENTION.has(summary.status))
      rows.push({ scenario: s, metric, summary });
  }
  // A scenario with no budget (measured only) still shows its headline figures.
  if (rows.length === 0) {
    for (const metric of HEADLINE) {
      const summary = s.metrics[metric];
      if (summary) rows.push({ scenario: s, metric, summary });
    }
  }
  rows.sort((a, b) => rank(a) - rank(b));
  return rows.length > 0 ? rows : [{ scenario: s }];
}

const HEADLINE: readonly MetricKey[] = ["peakHeap", "allocated", "peakRss"];

function rank(r: Row): number {
  const s = r.summary?.status ?? "pass";
  return ["error", "over", "regressed"].includes(s) ? ["error", "over", "regressed"].indexOf(s) : 3;
}

export function sortScenarios(scenarios: ScenarioReport[]): ScenarioReport[] {
  const order = ["error", "over", "regressed", "removed", "new", "pass", "unbudgeted"];
  return [...scenarios].sort((a, b) => order.indexOf(a.status) - order.indexOf(b.status));
}

export { worst };
