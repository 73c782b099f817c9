// Figures + budgets + an optional base → the judged report: every status, the site diff and the
// verdict sentence, in one pass. The only place a budget is put on a figure.
import type { MetricKey } from "../model/metrics.js";
import type { TestRule } from "../model/pytest.js";
import type { AppliedBudgets, Report, ScenarioReport } from "../model/report.js";
import { overallStatus, verdictSentence, worst } from "../model/status.js";
import { judgeTests } from "./pytest.js";
import { explainingSites, scenarioSiteDiff } from "./sites.js";
import { judgeMetric, scenarioStatus } from "./verdict.js";

/** What a scenario may use, and where the budget file says so. */
export interface ScenarioBudget {
  budget: Partial<Record<MetricKey, number>>;
  /** Growth against the base that counts as a regression (fraction). */
  tolerance: number;
  source?: ScenarioReport["source"];
  /** pytest: per-test budgets by node-id glob. */
  tests?: readonly TestRule[];
}

/** Budgets by scenario name. A scenario that has none here keeps the budgets its report carries. */
export type Budgets = ReadonlyMap<string, ScenarioBudget>;

/**
 * The budgets a judged report applied to a scenario, as it keeps them. A report of an older version
 * kept only each metric's `budget`: those are read, and its per-test budgets are not re-applied.
 */
export function budgetsOfScenario(s: ScenarioReport): ScenarioBudget {
  const applied: AppliedBudgets = s.applied ?? {
    budget: Object.fromEntries(
      Object.entries(s.metrics).flatMap(([key, m]) => (m.budget !== undefined ? [[key, m.budget]] : [])),
    ),
  };
  return {
    budget: applied.budget,
    tolerance: s.tolerance,
    ...(s.source ? { source: s.source } : {}),
    ...(applied.tests ? { tests: applied.tests } : {}),
  };
}

export interface JudgeOptions {
  /** The budgets to apply (a budget file's, for `check`); default: those the report carries. */
  budgets?: Budgets;
  /** The base report: deltas, regressions, the base's timeline and the site diff. */
  base?: Report;
  /**
   * "report" when the budgets are judged against a stored report (`check`): a budgeted figure it
   * lacks is "not in the report", whatever the probe said then. Default "measurement": the probe's reason.
   */
  figuresFrom?: "measurement" | "report";
}

/** Returns a new report whose statuses reflect the budgets and, when given, the base report. */
export function judge(report: Report, options: JudgeOptions = {}): Report {
  const { base } = options;
  // A scenario that failed or did not exist at the base has no figures to compare with: it is new.
  const baseByName = new Map(
    (base?.scenarios ?? [])
      .filter((s) => s.status !== "removed" && s.status !== "error")
      .map((s) => [s.name, s]),
  );
  const scenarios: ScenarioReport[] = report.scenarios
    .filter((s) => s.status !== "removed")
    .map((s) =>
      judgeScenario(
        s,
        options.budgets?.get(s.name) ?? budgetsOfScenario(s),
        baseByName.get(s.name),
        base,
        options.figuresFrom ?? "measurement",
      ),
    );
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
  const { base: _previous, ...rest } = report;
  return {
    ...rest,
    scenarios,
    // A report that is not whole (a shard sent none) fails whatever its scenarios say.
    status: report.error ? "error" : overallStatus(scenarios),
    summary: report.error ? withError(report.error, verdictSentence(scenarios)) : verdictSentence(scenarios),
    ...(base
      ? {
          base: {
            source: report.base?.source ?? "base report",
            ...(base.commit ? { commit: base.commit } : {}),
            createdAt: base.createdAt,
          },
        }
      : {}),
  };
}

/** "Shard 2 of 4: no report; all 5 scenarios within budget": the error first, so no headline hides it. */
export function withError(error: string, verdict: string): string {
  return `${error.charAt(0).toUpperCase()}${error.slice(1)}; ${verdict.charAt(0).toLowerCase()}${verdict.slice(1)}`;
}

/** A measurement error (a run failed, or nothing ran) stays an error whatever the budgets say. */
function measurementFailed(s: ScenarioReport): boolean {
  return s.status === "error" && (s.runs.length === 0 || s.runs.some((r) => r.error !== undefined));
}

function judgeScenario(
  s: ScenarioReport,
  budgets: ScenarioBudget,
  base: ScenarioReport | undefined,
  baseReport: Report | undefined,
  figuresFrom: "measurement" | "report",
): ScenarioReport {
  const metrics: ScenarioReport["metrics"] = {};
  for (const [key, m] of Object.entries(s.metrics)) {
    const metric = key as MetricKey;
    const b = base?.metrics[metric];
    const budget = budgets.budget[metric];
    metrics[metric] = judgeMetric({
      summary: m,
      metric,
      ...(budget !== undefined ? { budget } : {}),
      ...(b ? { base: { value: b.value, min: b.min, max: b.max, runs: b.runs } } : {}),
      tolerance: budgets.tolerance,
      ...(metric === "retainedPerRequest" && s.load ? { leak: s.load.leak } : {}),
    });
  }
  const { reason: _reason, ...kept } = s;
  const judged: ScenarioReport = {
    ...withBaseAttachments(kept, base),
    metrics,
    tolerance: budgets.tolerance,
    applied: { budget: budgets.budget, ...(budgets.tests ? { tests: [...budgets.tests] } : {}) },
    ...(budgets.source ? { source: budgets.source } : {}),
  };
  const tests = judgeTests(s, budgets.tests ?? [], budgets.tolerance, base);
  if (tests) {
    judged.tests = tests.tests;
    judged.testSummary = tests.testSummary;
  }
  if (measurementFailed(s)) return { ...judged, status: "error", ...(s.reason ? { reason: s.reason } : {}) };
  // Budgeted metrics without a figure: the probe's reason when it gave one.
  const missing = (Object.keys(budgets.budget) as MetricKey[]).filter((k) => !metrics[k]);
  if (missing.length > 0) {
    const why = (k: MetricKey) =>
      (figuresFrom === "measurement" ? s.unavailable?.[k] : undefined) ?? "not in the report";
    judged.unavailable = { ...s.unavailable, ...Object.fromEntries(missing.map((k) => [k, why(k)])) };
    judged.status = "error";
    judged.reason = `budgeted but not measurable here: ${missing.map((k) => `${k} (${why(k)})`).join("; ")}`;
    return judged;
  }
  judged.status = scenarioStatus({ metrics, status: "pass" }, baseReport !== undefined, base !== undefined);
  const worstMetric = Object.values(metrics).find((m) => m.status === judged.status);
  if (worstMetric?.reason) judged.reason = worstMetric.reason;
  else if (judged.status === "new") judged.reason = "not in the base";
  // The scenario takes its worst test's status when that is worse than its own figures'.
  if (tests && tests.status !== "pass" && worst([judged.status, tests.status]) === tests.status) {
    judged.status = tests.status;
    if (tests.reason) judged.reason = tests.reason;
  }
  return judged;
}

/**
 * The base's timeline and the site diff, so every renderer draws base and head from the head report
 * alone; whatever an earlier judgement put there is replaced.
 */
function withBaseAttachments<T extends ScenarioReport | Omit<ScenarioReport, "reason">>(
  s: T,
  base: ScenarioReport | undefined,
): T {
  const { baseTimeline: _t, ...rest } = s;
  const out = rest as T;
  if (s.sites) {
    const { diff: _d, diffOf: _o, ...sites } = s.sites;
    out.sites = sites;
  }
  if (!base) return out;
  if (base.timeline && base.timeline.length > 0) out.baseTimeline = base.timeline;
  const diff = scenarioSiteDiff(s.sites, base.sites, undefined, explainingSites(s));
  if (diff && out.sites) out.sites = { ...out.sites, ...diff };
  return out;
}

/**
 * After an attribution run added sites to a judged report (or to its base): the site diffs anew,
 * statuses untouched.
 */
export function withSiteDiffs(report: Report, base: Report | undefined): Report {
  if (!base) return report;
  const baseByName = new Map(base.scenarios.map((s) => [s.name, s]));
  return {
    ...report,
    scenarios: report.scenarios.map((s) => {
      const b = baseByName.get(s.name);
      return b && s.status !== "removed" ? withBaseAttachments(s, b) : s;
    }),
  };
}
