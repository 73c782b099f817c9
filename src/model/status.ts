// Statuses and how they combine: the words every stage uses for a verdict, in one place.

import type { Report, ScenarioReport } from "./report.js";
import { plural } from "./units.js";

export type Status = "pass" | "over" | "regressed" | "error" | "new" | "removed" | "unbudgeted";

/** Worst first: the order in which statuses win when a scenario or a run is summarised. */
export const STATUS_ORDER: readonly Status[] = [
  "error",
  "over",
  "regressed",
  "removed",
  "new",
  "pass",
  "unbudgeted",
];

/**
 * What a reader must look at: a figure that failed, broke its budget or regressed (the head of
 * STATUS_ORDER). The tables list these first, the comment shows their sites, a test list keeps them.
 */
export const NEEDS_ATTENTION: ReadonlySet<Status> = new Set(["error", "over", "regressed"]);

/** The worst of several statuses (`empty` when there are none). */
export function worst(statuses: Iterable<Status>, empty: Status = "pass"): Status {
  let best = STATUS_ORDER.length;
  for (const s of statuses) best = Math.min(best, STATUS_ORDER.indexOf(s));
  return STATUS_ORDER[best] ?? empty;
}

/**
 * A status as a scenario or a run shows it: a metric without a budget is "unbudgeted" (measured,
 * nothing to judge), which says "pass" once it rolls up.
 */
export function shownStatus(status: Status): Exclude<Status, "unbudgeted"> {
  return status === "unbudgeted" ? "pass" : status;
}

/** The run's status: its worst scenario's. */
export function overallStatus(scenarios: Pick<ScenarioReport, "status">[]): Exclude<Status, "unbudgeted"> {
  return shownStatus(worst(scenarios.map((s) => s.status)));
}

/** What fails the step or the command. */
export const FAIL_ON = ["over", "regressed", "never"] as const;
export type FailOn = (typeof FAIL_ON)[number];

/** The scenarios that fail the run under `fail-on` (an error always does, unless `never`). */
export function failingScenarios(report: Pick<Report, "scenarios">, failOn: FailOn): string[] {
  if (failOn === "never") return [];
  const failing = new Set<Status>(
    failOn === "regressed" ? ["error", "over", "regressed"] : ["error", "over"],
  );
  return report.scenarios.filter((s) => failing.has(s.status)).map((s) => s.name);
}

/** "2 of 14 scenarios over budget" — the verdict in words, worst news first. */
export function verdictSentence(scenarios: Pick<ScenarioReport, "status">[]): string {
  const total = scenarios.filter((s) => s.status !== "removed").length;
  const count = (st: Status) => scenarios.filter((s) => s.status === st).length;
  const parts: string[] = [];
  const errors = count("error");
  const over = count("over");
  const regressed = count("regressed");
  const of = `of ${plural(total, "scenario")}`;
  if (errors) parts.push(`${errors} ${of} failed to run`);
  if (over) parts.push(`${parts.length ? `${over}` : `${over} ${of}`} over budget`);
  if (regressed) parts.push(`${parts.length ? `${regressed}` : `${regressed} ${of}`} regressed`);
  if (parts.length === 0) {
    if (total === 0) return "No scenarios ran";
    return total === 1 ? "1 scenario within budget" : `All ${total} scenarios within budget`;
  }
  return parts.join(", ");
}
