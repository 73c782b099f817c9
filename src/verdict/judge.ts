// Applies budgets and an optional base report to a report's figures: every status and the verdict sentence.
import type { MetricKey } from "../model/metrics.js";
import type { Report, ScenarioReport } from "../model/report.js";
import { verdictSentence, worst } from "../model/status.js";
import { scenarioSiteDiff } from "./sites.js";
import { judgeMetric, scenarioStatus } from "./verdict.js";

/** Returns a new report whose statuses reflect its budgets and, when given, the base report. */
export function judgeReport(report: Report, base?: Report): Report {
  // A scenario that failed or did not exist at the base has no figures to compare with: it is new.
  const baseByName = new Map(
    (base?.scenarios ?? [])
      .filter((s) => s.status !== "removed" && s.status !== "error")
      .map((s) => [s.name, s]),
  );
  const scenarios: ScenarioReport[] = report.scenarios
    .filter((s) => s.status !== "removed")
    .map((s) => judgeScenario(s, base ? baseByName.get(s.name) : undefined, base !== undefined));
  if (base) {
    const names = new Set(scenarios.map((s) => s.name));
    for (const b of base.scenarios) {
      if (names.has(b.name) || b.status === "removed") continue;
      scenarios.push({
        name: b.name,
        command: b.command,
        runtime: b.runtime,
        cwd: b.cwd,
        tolerance: b.tolerance,
        status: "removed",
        reason: "in the base but not in the head's budget file",
        metrics: {},
        runs: [],
      });
    }
  }
  const status = worst(
    scenarios.map((s) => s.status),
    "pass",
  );
  const judged: Report = {
    ...report,
    scenarios,
    status: status === "unbudgeted" ? "pass" : status,
    summary: verdictSentence(scenarios),
  };
  if (base) {
    judged.base = {
      source: report.base?.source ?? "base report",
      ...(base.commit ? { commit: base.commit } : {}),
      createdAt: base.createdAt,
    };
  } else {
    delete judged.base;
  }
  return judged;
}

function judgeScenario(
  s: ScenarioReport,
  base: ScenarioReport | undefined,
  hasBase: boolean,
): ScenarioReport {
  const metrics: ScenarioReport["metrics"] = {};
  for (const [key, m] of Object.entries(s.metrics)) {
    const metric = key as MetricKey;
    const b = base?.metrics[metric];
    metrics[metric] = judgeMetric({
      summary: stripJudgement(m),
      metric,
      ...(m.budget !== undefined ? { budget: m.budget } : {}),
      ...(b ? { base: { value: b.value, min: b.min, max: b.max, runs: b.runs } } : {}),
      tolerance: s.tolerance,
    });
  }
  const judged: ScenarioReport = { ...withBaseAttachments(s, base), metrics };
  if (s.status === "error") return judged;
  const missing = Object.keys(s.unavailable ?? {});
  if (missing.length > 0) {
    judged.status = "error";
    judged.reason = `budgeted but not measurable here: ${Object.entries(s.unavailable ?? {})
      .map(([k, why]) => `${k} (${why})`)
      .join("; ")}`;
    return judged;
  }
  judged.status = scenarioStatus({ metrics, status: s.status }, hasBase, base !== undefined);
  const worstMetric = Object.values(metrics).find((m) => m.status === judged.status);
  if (worstMetric?.reason) judged.reason = worstMetric.reason;
  else if (judged.status === "new") judged.reason = "not in the base";
  else delete judged.reason;
  return judged;
}

/**
 * The base's timeline and the site diff, so every renderer draws base and head from the head report
 * alone; whatever an earlier judgement put there is replaced.
 */
function withBaseAttachments(s: ScenarioReport, base: ScenarioReport | undefined): ScenarioReport {
  const { baseTimeline: _t, ...rest } = s;
  const out: ScenarioReport = rest;
  if (s.sites) {
    const { diff: _d, diffOf: _o, ...sites } = s.sites;
    out.sites = sites;
  }
  if (!base) return out;
  if (base.timeline && base.timeline.length > 0) out.baseTimeline = base.timeline;
  const diff = scenarioSiteDiff(s.sites, base.sites);
  if (diff && out.sites) out.sites = { ...out.sites, ...diff };
  return out;
}

function stripJudgement<
  T extends { status?: unknown; reason?: unknown; base?: unknown; delta?: unknown; budget?: unknown },
>(m: T) {
  const { status: _s, reason: _r, base: _b, delta: _d, budget: _g, ...rest } = m;
  return rest as Omit<T, "status" | "reason" | "base" | "delta" | "budget">;
}
