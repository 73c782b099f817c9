// The base a judged report carries (figures, timeline, site diff), as a base Report: judging a
// report again (merged from shards, whose bases were measured leg by leg) keeps every comparison.
import type { MetricKey } from "../model/metrics.js";
import type { MetricSummary, Report, ScenarioReport, Site } from "../model/report.js";
import type { TestMetricKey, TestReport } from "../model/tests.js";

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
      metrics[key as MetricKey] = baseFigure(m);
    }
    // A scenario without a single base figure was not (or not cleanly) in the base.
    if (Object.keys(metrics).length === 0) continue;
    const sites = baseSites(s);
    const tests = baseTests(s);
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
      ...tests,
    });
  }
  return {
    ...report,
    createdAt: report.base.createdAt ?? report.createdAt,
    ...(report.base.commit ? { commit: report.base.commit } : {}),
    scenarios,
  };
}

/** A metric's base figures, as the base report had them. */
function baseFigure(m: MetricSummary): MetricSummary {
  const base = m.base!;
  return {
    ...base,
    runs: base.runs ?? 1,
    spread: base.value > 0 ? (base.max - base.min) / base.value : 0,
    kind: m.kind,
    deterministic: m.deterministic,
    status: "pass",
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

/**
 * The base's tests that give the same per-test judgement again: each listed test at its base
 * figures, and the removed ones (in the base only). The report lists a bounded set, so the base's
 * count says whether the first judgement could call a test new: with a new test listed it could
 * (the base was whole), else one more than listed, so that no test becomes new here.
 */
function baseTests(s: ScenarioReport): Pick<ScenarioReport, "tests" | "testSummary"> {
  if (!s.testSummary) return {};
  const tests: TestReport[] = [];
  for (const t of s.tests ?? []) {
    if (t.status === "removed") {
      tests.push({ id: t.id, outcome: t.outcome, status: "pass", metrics: {} });
      continue;
    }
    const metrics: TestReport["metrics"] = {};
    for (const [key, m] of Object.entries(t.metrics) as [TestMetricKey, MetricSummary][]) {
      if (m.base) metrics[key] = baseFigure(m);
    }
    if (Object.keys(metrics).length > 0)
      tests.push({ id: t.id, outcome: t.outcome, status: "pass", metrics });
  }
  const anyNew = (s.tests ?? []).some((t) => t.status === "new");
  return {
    tests,
    testSummary: { total: tests.length + (anyNew ? 0 : 1), over: 0, regressed: 0, new: 0, removed: 0 },
  };
}
