// Merges reports of separate jobs (a matrix, shards) into one; later reports win on name clashes.
import type { Report } from "../model/report.js";
import { overallStatus, verdictSentence } from "../model/status.js";

/** Each scenario keeps the verdict its own job gave it; only the totals are computed anew. */
export function mergeReports(reports: Report[]): Report {
  const first = reports[0];
  if (!first) throw new Error("nothing to merge");
  const byName = new Map<string, Report["scenarios"][number]>();
  for (const r of reports) for (const s of r.scenarios) byName.set(s.name, s);
  const scenarios = [...byName.values()];
  const notes = [...new Set(reports.flatMap((r) => r.notes ?? []))];
  return {
    ...first,
    createdAt: new Date().toISOString(),
    scenarios,
    status: overallStatus(scenarios),
    summary: verdictSentence(scenarios),
    ...(notes.length ? { notes } : {}),
  };
}
