// Which rows a table shows: the metrics of a scenario worth a line, worst first.
import { METRIC_KEYS, type MetricKey } from "../model/metrics.js";
import type { MetricSummary, ScenarioReport, Site } from "../model/report.js";
import { STATUS_ORDER, type Status } from "../model/status.js";

export interface Row {
  scenario: ScenarioReport;
  metric?: MetricKey;
  summary?: MetricSummary;
}

const ATTENTION: ReadonlySet<Status> = new Set(["error", "over", "regressed"]);

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

/** Rows that need attention first (error, over, regressed: the head of STATUS_ORDER), the rest as they come. */
function rank(r: Row): number {
  return Math.min(order(r.summary?.status ?? "pass"), ATTENTION.size);
}

const order = (status: Status) => STATUS_ORDER.indexOf(status);

/** Worst first, in STATUS_ORDER; scenarios of one status keep the budget file's order. */
export function sortScenarios(scenarios: ScenarioReport[]): ScenarioReport[] {
  return [...scenarios].sort((a, b) => order(a.status) - order(b.status));
}

/** The sites worth showing under a scenario: the diff when something grew, else the head's own. */
export function headlineSites(s: ScenarioReport):
  | {
      kind: "diff" | "peak" | "allocated";
      sites: (Site & { baseBytes?: number })[];
      of?: "peak" | "allocated";
    }
  | undefined {
  const sites = s.sites;
  if (!sites) return undefined;
  if (sites.diff && sites.diff.length > 0)
    return { kind: "diff", sites: sites.diff, of: sites.diffOf ?? "peak" };
  if (sites.peak && sites.peak.length > 0) return { kind: "peak", sites: sites.peak };
  if (sites.allocated && sites.allocated.length > 0) return { kind: "allocated", sites: sites.allocated };
  return undefined;
}
