// Report → workflow-command annotations on the budget file, one per broken budget or failed scenario.
import { METRICS, type MetricKey } from "../model/metrics.js";
import type { Report } from "../model/report.js";
import { showable } from "../model/text.js";

export interface Annotation {
  level: "error" | "warning";
  file: string;
  line: number;
  title: string;
  message: string;
}

export function annotationsOf(report: Report, budgetFile: string): Annotation[] {
  const out: Annotation[] = [];
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
      if (m.status !== "over" && m.status !== "regressed") continue;
      out.push({
        level: m.status === "over" ? "error" : "warning",
        file: budgetFile,
        line: s.source?.budgetLines[key as MetricKey] ?? line,
        title: `membudget: ${showable(s.name)} ${m.status === "over" ? "over budget" : "regressed"} (${METRICS[key as MetricKey].label})`,
        message: showable(m.reason ?? m.status),
      });
    }
  }
  return out;
}
