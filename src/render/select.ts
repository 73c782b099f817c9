// Which rows a table shows: the metrics of a scenario worth a line, worst first.
import { METRIC_KEYS, type MetricKey, NEVER_MEASURED, NO_CLEAN_RUN } from "../model/metrics.js";
import type { MetricSummary, ScenarioReport, Site } from "../model/report.js";
import { NEEDS_ATTENTION, STATUS_ORDER, type Status } from "../model/status.js";
import { explainingSites } from "../verdict/sites.js";

export interface Row {
  scenario: ScenarioReport;
  metric?: MetricKey;
  summary?: MetricSummary;
  /** Why the metric has no figure (the row shows "unavailable", never a 0 or a gap). */
  unavailable?: string;
}

export function needsAttention(s: ScenarioReport): boolean {
  return NEEDS_ATTENTION.has(s.status);
}

/**
 * Budgeted metrics, any metric that changed status, and every metric the probes failed to give
 * here (unavailable, with why); a scenario without any of those gets one row.
 */
export function rowsOf(s: ScenarioReport, all = false): Row[] {
  const rows: Row[] = [];
  for (const metric of METRIC_KEYS) {
    const summary = s.metrics[metric];
    if (!summary) continue;
    if (all || summary.budget !== undefined || NEEDS_ATTENTION.has(summary.status))
      rows.push({ scenario: s, metric, summary });
  }
  // A scenario with no budget (measured only) still shows its headline figures.
  if (rows.length === 0) {
    for (const metric of HEADLINE) {
      const summary = s.metrics[metric];
      if (summary) rows.push({ scenario: s, metric, summary });
    }
  }
  rows.push(...unavailableRows(s, all));
  rows.sort((a, b) => rank(a) - rank(b));
  return rows.length > 0 ? rows : [{ scenario: s }];
}

/**
 * Metrics without a figure, with why: every one the runtime's probes failed to give; those it never
 * gives (Node.js's external heap for Python) and those no budget asked a clean run for (one repeat)
 * only when budgeted or when every row is asked for.
 */
export function unavailableRows(s: ScenarioReport, all = false): Row[] {
  const rows: Row[] = [];
  for (const metric of METRIC_KEYS) {
    const why = s.unavailable?.[metric];
    if (why === undefined || s.metrics[metric]) continue;
    const structural = NEVER_MEASURED[s.runtime]?.[metric] === why || why === NO_CLEAN_RUN;
    if (all || !structural || isBudgeted(s, metric)) rows.push({ scenario: s, metric, unavailable: why });
  }
  return rows;
}

/** Whether the judgement applied a budget to the metric (an older report: its budget file's line for it). */
function isBudgeted(s: ScenarioReport, metric: MetricKey): boolean {
  return s.applied ? s.applied.budget[metric] !== undefined : s.source?.budgetLines[metric] !== undefined;
}

const HEADLINE: readonly MetricKey[] = ["peakHeap", "allocated", "peakRss"];

/** Rows that need attention first (error, over, regressed: the head of STATUS_ORDER), the rest as they come. */
function rank(r: Row): number {
  if (r.unavailable !== undefined) return isBudgeted(r.scenario, r.metric!) ? 0 : NEEDS_ATTENTION.size;
  return Math.min(order(r.summary?.status ?? "pass"), NEEDS_ATTENTION.size);
}

const order = (status: Status) => STATUS_ORDER.indexOf(status);

/** Worst first, in STATUS_ORDER; scenarios of one status keep the budget file's order. */
export function sortScenarios(scenarios: ScenarioReport[]): ScenarioReport[] {
  return [...scenarios].sort((a, b) => order(a.status) - order(b.status));
}

/** The sites worth showing under a scenario: the diff when something grew, else the head's own. */
export function headlineSites(s: ScenarioReport):
  | {
      kind: "diff" | "peak" | "allocated" | "retained";
      sites: (Site & { baseBytes?: number; baseError?: number })[];
      of?: "peak" | "allocated";
    }
  | undefined {
  const sites = s.sites;
  if (!sites) return undefined;
  // A load scenario's lines that kept memory per request are what its reader came for.
  if (sites.retained && sites.retained.length > 0) return { kind: "retained", sites: sites.retained };
  if (sites.diff && sites.diff.length > 0)
    return { kind: "diff", sites: sites.diff, of: sites.diffOf ?? "peak" };
  // Over allocated/allocations alone, the sites that allocated most explain the verdict.
  if (explainingSites(s) === "allocated" && sites.allocated && sites.allocated.length > 0)
    return { kind: "allocated", sites: sites.allocated };
  if (sites.peak && sites.peak.length > 0) return { kind: "peak", sites: sites.peak };
  if (sites.allocated && sites.allocated.length > 0) return { kind: "allocated", sites: sites.allocated };
  return undefined;
}

/** The unavailable rows of a scenario grouped by reason (several metrics often share one). */
export function unavailableGroups(s: ScenarioReport, all = false): { metrics: MetricKey[]; why: string }[] {
  const groups = new Map<string, MetricKey[]>();
  for (const row of unavailableRows(s, all)) {
    const list = groups.get(row.unavailable!);
    if (list) list.push(row.metric!);
    else groups.set(row.unavailable!, [row.metric!]);
  }
  return [...groups].map(([why, metrics]) => ({ metrics, why }));
}
