// Report → workflow-command annotations where the code is: a broken budget at its line of the
// budget file, a test over its budget at the test's definition, a site that grew at its line.
import { METRICS, type MetricKey } from "../model/metrics.js";
import type { Report } from "../model/report.js";
import { splitLocation } from "../model/sites.js";
import { showable } from "../model/text.js";
import { formatSize } from "../model/units.js";
import { formatDelta } from "./format.js";

export interface Annotation {
  level: "error" | "warning" | "notice";
  file: string;
  line: number;
  title: string;
  message: string;
}

/** GitHub shows at most 10 annotations of a kind per step: the notices of grown sites stop there. */
const NOTICES = 10;

/**
 * Errors and warnings for what failed (a budgeted metric, a budgeted test, a crash); notices for
 * the sites that grew most, on the pull request's own lines. A metric without a budget makes none.
 */
export function annotationsOf(report: Report, budgetFile: string): Annotation[] {
  const out: Annotation[] = [];
  const notices: Annotation[] = [];
  for (const s of report.scenarios) {
    const line = s.source?.line ?? 1;
    if (s.status === "error") {
      out.push({
        level: "error",
        file: budgetFile,
        line,
        title: `membudget: ${showable(s.name)} failed`,
        message: showable(s.reason ?? "the workload failed"),
      });
      continue;
    }
    for (const [key, m] of Object.entries(s.metrics)) {
      if (m.budget === undefined || (m.status !== "over" && m.status !== "regressed")) continue;
      out.push({
        level: m.status === "over" ? "error" : "warning",
        file: budgetFile,
        line: s.source?.budgetLines[key as MetricKey] ?? line,
        title: `membudget: ${showable(s.name)} ${m.status === "over" ? "over budget" : "regressed"} (${METRICS[key as MetricKey].label})`,
        message: showable(m.reason ?? m.status),
      });
    }
    for (const t of s.tests ?? []) {
      if (t.status !== "over" && t.status !== "regressed") continue;
      const where = t.location ?? { file: budgetFile, line };
      out.push({
        level: t.status === "over" ? "error" : "warning",
        file: where.file,
        line: where.line,
        title: `membudget: ${t.id.split("::").slice(1).join("::") || t.id} ${t.status === "over" ? "over budget" : "regressed"} (${s.name})`,
        message: `${t.id}: ${t.reason ?? t.status}`,
      });
    }
    for (const site of s.sites?.diff ?? []) {
      const { file, line: at } = splitLocation(site.location);
      // Only the repository's own lines: a library's (<stdlib>/…, <site-packages>/…) is not in the diff.
      if (at === undefined || file.startsWith("<") || file.startsWith("/")) continue;
      const grew =
        site.baseBytes > 0
          ? `${formatSize(site.baseBytes)} → ${formatSize(site.bytes)} (${formatDelta((site.bytes - site.baseBytes) / site.baseBytes)})`
          : `${formatSize(site.bytes)}, new against the base`;
      const what = s.sites?.diffOf === "allocated" ? "allocated here" : "held here at the peak";
      notices.push({
        level: "notice",
        file,
        line: at,
        title: `membudget: ${s.name} grew here`,
        message: `${what}: ${grew}${site.function ? ` in ${site.function}` : ""}`,
      });
    }
  }
  // The diff lists the sites that grew most first, scenario by scenario.
  return [...out, ...notices.slice(0, NOTICES)];
}
