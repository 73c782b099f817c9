// The base a judged report carries (figures, timeline, site diff), as a base Report: judging a
// report again (merged from shards, whose bases were measured leg by leg) keeps every comparison.
import type { MetricKey } from "../model/metrics.js";
import type { Report, ScenarioReport, Site } from "../model/report.js";

/**
 * The base that `report` was judged against, rebuilt from what it carries; undefined when it was
 * judged against none. `judge(report, { base: carriedBase(report) })` gives `report` back.
 */
export function carriedBase(report: Report): Report | undefined {
  if (!report.base) return undefined;
  const scenarios: ScenarioReport[] = [];
  for (const s of report.scenarios) {
    if (s.status === "removed") {
      // In the base only: the judgement names it removed again.
      scenarios.push({ ...s, status: "pass", metrics: {}, runs: [] });
      continue;
    }
    const metrics: ScenarioReport["metrics"] = {};
    for (const [key, m] of Object.entries(s.metrics)) {
      if (!m.base) continue;
      metrics[key as MetricKey] = {
        ...m.base,
        runs: m.base.runs ?? 1,
        spread: m.base.value > 0 ? (m.base.max - m.base.min) / m.base.value : 0,
        kind: m.kind,
        deterministic: m.deterministic,
        status: "pass",
      };
    }
    // A scenario without a single base figure was not (or not cleanly) in the base.
    if (Object.keys(metrics).length === 0) continue;
    const sites = baseSites(s);
    scenarios.push({
      name: s.name,
      command: s.command,
      runtime: s.runtime,
      cwd: s.cwd,
      tolerance: s.tolerance,
      status: "pass",
      metrics,
      runs: [],
      ...(s.baseTimeline ? { timeline: s.baseTimeline } : {}),
      ...(sites ? { sites } : {}),
    });
  }
  return {
    ...report,
    createdAt: report.base.createdAt ?? report.createdAt,
    ...(report.base.commit ? { commit: report.base.commit } : {}),
    scenarios,
  };
}

/**
 * Base sites that give the same diff again: each head site of the diffed list at its base bytes
 * (those that grew), or at its own (those that did not, so they stay out of the diff); a site that
 * was new is left out, so it is new again.
 */
function baseSites(s: ScenarioReport): ScenarioReport["sites"] | undefined {
  const kind = s.sites?.diffOf;
  const head = kind ? s.sites?.[kind] : undefined;
  if (!kind || !head) return undefined;
  const grown = new Map((s.sites?.diff ?? []).map((d) => [d.location, d.baseBytes]));
  const sites: Site[] = [];
  for (const h of head) {
    const baseBytes = grown.get(h.location);
    if (baseBytes === 0) continue;
    sites.push({ ...h, bytes: baseBytes ?? h.bytes });
  }
  return { [kind]: sites };
}
