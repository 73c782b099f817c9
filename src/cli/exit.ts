// The CLI's exit codes, decided in one place.
import type { Report } from "../model/report.js";

export const EXIT = { ok: 0, breach: 1, usage: 2, workload: 3, cancelled: 130 } as const;

export type FailOn = "over" | "regressed" | "never";

/** 3 when a workload failed (its figures are missing), 1 when a budget was broken, else 0. */
export function exitCodeFor(report: Report, failOn: FailOn): number {
  const statuses = new Set(report.scenarios.map((s) => s.status));
  if (statuses.has("error")) return EXIT.workload;
  if (failOn === "never") return EXIT.ok;
  if (statuses.has("over")) return EXIT.breach;
  if (failOn === "regressed" && statuses.has("regressed")) return EXIT.breach;
  return EXIT.ok;
}
