// The CLI's exit codes, decided in one place: from a report, or from an error.
import { CancelledError, MembudgetError } from "../model/errors.js";
import type { Report } from "../model/report.js";
import { type FailOn, failingScenarios } from "../model/status.js";

export const EXIT = { ok: 0, breach: 1, usage: 2, workload: 3, cancelled: 130 } as const;

/** 3 when a workload failed or a shard is missing (figures are missing), 1 when a budget was broken, else 0. */
export function exitCodeFor(report: Report, failOn: FailOn): number {
  // A report that is not whole (a shard sent none) is a failure of the run, like a crashed workload.
  if (report.error || report.scenarios.some((s) => s.status === "error")) return EXIT.workload;
  return failingScenarios(report, failOn).length > 0 ? EXIT.breach : EXIT.ok;
}

/** Says what went wrong on stderr and returns the exit status for it. */
export function exitCodeForError(err: unknown): number {
  if (err instanceof CancelledError) {
    process.stderr.write("membudget: cancelled; no report written\n");
    return EXIT.cancelled;
  }
  if (err instanceof MembudgetError) {
    process.stderr.write(`membudget: ${err.message}\n`);
    return err.code === "git" ? EXIT.workload : EXIT.usage;
  }
  process.stderr.write(`membudget: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
  return EXIT.workload;
}
