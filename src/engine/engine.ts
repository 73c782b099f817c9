// The engine both adapters share: a Selection in, a judged Report out (measure → summarise → judge).
import { arch, cpus, platform, release, totalmem } from "node:os";
import { dirname } from "node:path";
import type { Selection } from "../config/select.js";
import type { Plan, Scenario } from "../config/types.js";
import { prepareNativeTools } from "../measure/native.js";
import { attributionRun, type MeasureHooks, nativeHelpers } from "../measure/scenario.js";
import {
  displayLocation,
  relativeSites,
  reportSites,
  repositoryRoot,
  SITE_LIMIT,
  wantsSites,
} from "../measure/sites.js";
import type { Run } from "../measure/types.js";
import { LOAD_METRICS, METRIC_KEYS, METRICS, type MetricKey, NEVER_MEASURED } from "../model/metrics.js";
import {
  type Provenance,
  REPORT_VERSION,
  type Report,
  type RunRecord,
  type ScenarioReport,
} from "../model/report.js";
import { VERSION } from "../model/version.js";
import { budgetsOfPlan } from "../verdict/budgets.js";
import { judge, withSiteDiffs } from "../verdict/judge.js";
import { summariseTests } from "../verdict/pytest.js";
import { summarise } from "../verdict/summarise.js";
import { attributeLoad, isLoad, loadSummary, measureLoad, wantsLoadSites } from "./load.js";
import { measureScenarios } from "./schedule.js";
import { scenarioSetup } from "./setup.js";

export interface RunOptions {
  /** The Plan this job runs (config/select.ts). */
  selection: Selection;
  /** The report to compare with: deltas, regressions, the base's timeline and the site diff. */
  base?: Report;
  /** Where the report comes from (commit, budget file, links...), as the adapter knows it. */
  provenance?: Provenance;
  hooks?: MeasureHooks;
  /** Probed runs measured side by side (engine/schedule.ts); 1, the default, measures one run at a time. */
  jobs?: number;
  /**
   * The base, worked out once the head is measured (and before it is judged): the Action reuses a
   * stored report's figures where the head's setups match and measures the rest. Wins over `base`
   * and `provenance.baseSource`.
   */
  resolveBase?: (head: Report) => Promise<{ report: Report; source: string } | undefined>;
  /** Keep every scenario's sampled sites, passing or not (a base the head's sites are diffed against). */
  keepSites?: boolean;
}

export async function runPlan({
  selection,
  base: given,
  provenance = {},
  hooks = {},
  jobs = 1,
  resolveBase,
  keepSites,
}: RunOptions): Promise<Report> {
  const { plan, shard } = selection;
  const reports: ScenarioReport[] = [];
  const notes = new Set<string>();
  let python: string | undefined;
  await prepareNativeTools(nativeHelpers(plan.scenarios));
  const measurements = await measureScenarios(plan.scenarios, hooks, jobs, (s) =>
    isLoad(s) ? measureLoad(s, hooks) : undefined,
  );
  for (const [i, scenario] of plan.scenarios.entries()) {
    const measured = measurements[i]!;
    python ??= pythonVersionOf(measured.runs);
    for (const n of measured.notes) notes.add(n);
    const report = scenarioReport(scenario, measured.runs, measured.timeline, plan.file);
    if (measured.sites) {
      const sites = reportSites(measured.sites, repositoryRoot(scenario.cwd, dirname(plan.file)));
      if (sites) report.sites = sites;
    }
    const load = isLoad(scenario) ? loadSummary(scenario, measured.runs) : undefined;
    reports.push(load ? { ...report, load } : report);
  }
  for (const n of provenance.notes ?? []) notes.add(n);
  const measured: Report = {
    version: REPORT_VERSION,
    tool: { name: "membudget", version: VERSION },
    createdAt: new Date().toISOString(),
    budgetFile: provenance.budgetFile ?? plan.file,
    ...(plan.digest ? { budgetDigest: plan.digest } : {}),
    ...(provenance.commit ? { commit: provenance.commit } : {}),
    ...(shard ? { shard } : {}),
    ...(provenance.pullRequest ? { pullRequest: provenance.pullRequest } : {}),
    environment: { ...machineFacts(), ...(python ? { python } : {}) },
    status: "pass",
    summary: "",
    ...(provenance.links ? { links: provenance.links } : {}),
    scenarios: reports,
    ...(notes.size > 0 ? { notes: [...notes] } : {}),
  };
  const resolved = resolveBase
    ? await resolveBase(measured)
    : given && { report: given, source: provenance.baseSource ?? "base report" };
  // A shard judged against a whole base must not call the other shards' scenarios removed.
  const elsewhere = new Set(selection.elsewhere);
  const baseHere =
    resolved && elsewhere.size > 0
      ? { ...resolved.report, scenarios: resolved.report.scenarios.filter((b) => !elsewhere.has(b.name)) }
      : resolved?.report;
  const report: Report = resolved ? { ...measured, base: { source: resolved.source } } : measured;
  const judged = judge(report, {
    budgets: budgetsOfPlan(plan),
    ...(baseHere ? { base: baseHere } : {}),
  });
  return attributeSites(plan, judged, {
    hooks,
    ...(baseHere ? { base: baseHere } : {}),
    ...(keepSites ? { keepSites: true } : {}),
  });
}

export interface AttributeOptions {
  /**
   * Scenarios to attribute, by name. Default: those whose `sites` setting asks for it given their
   * status ("always": all; "auto": over budget or regressed). A scenario set to "never", absent
   * from the plan, or without figures (error) is skipped either way.
   */
  scenarios?: string[];
  /** The base report the head report was judged against: the site diff is made against it. */
  base?: Report;
  /** Sites kept per list (default 10). */
  limit?: number;
  hooks?: MeasureHooks;
  /** Keep sampled sites on scenarios that would not show them (see RunOptions.keepSites). */
  keepSites?: boolean;
}

/**
 * Runs the attribution run (one extra run per scenario, under the heavier site probe) for the
 * scenarios that need it and returns the report with their `sites` (paths relative to the
 * repository), diffed against `base` when given. The report's figures and timeline are untouched:
 * the attribution run's figures are not used.
 */
export async function attributeSites(
  plan: Plan,
  report: Report,
  options: AttributeOptions = {},
): Promise<Report> {
  const byName = new Map(plan.scenarios.map((s) => [s.name, s]));
  const chosen = options.scenarios ? new Set(options.scenarios) : undefined;
  let changed = false;
  const scenarios: ScenarioReport[] = [];
  for (const s of report.scenarios) {
    const scenario = byName.get(s.name);
    const wanted =
      scenario !== undefined &&
      scenario.sites !== "never" &&
      scenario.runtime !== "native" &&
      s.status !== "error" &&
      s.status !== "removed" &&
      (chosen
        ? chosen.has(s.name)
        : isLoad(scenario)
          ? wantsLoadSites(scenario, s)
          : wantsSites(scenario.sites, s.status));
    // Sites sampled in the measured run: nothing to run, only whether they are shown.
    if (s.sites?.method === "sampled" && (scenario?.sites !== "traced" || scenario.runtime === "node")) {
      if (wanted || options.keepSites) scenarios.push(s);
      else {
        const { sites: _, ...rest } = s;
        scenarios.push(rest);
        changed = true;
      }
      continue;
    }
    if (!wanted) {
      scenarios.push(s);
      continue;
    }
    if (isLoad(scenario)) {
      scenarios.push(
        await attributeLoad(
          scenario,
          s,
          dirname(plan.file),
          options.hooks ?? {},
          options.limit ?? SITE_LIMIT,
        ),
      );
      changed = true;
      continue;
    }
    const wall = s.metrics.wallTime?.value ?? 0;
    // tracemalloc with stacks runs several times slower than the normal run: allow for it.
    const timeoutMs = Math.max(scenario.timeout, wall * 12 + 30) * 1000;
    const found = await attributionRun(scenario, options.hooks ?? {}, {
      limit: options.limit ?? SITE_LIMIT,
      timeoutMs,
      ...(wall > 0 ? { measuredSeconds: wall } : {}),
    });
    const out: ScenarioReport = { ...s };
    if (found.error) {
      out.notes = [...(s.notes ?? []), `allocation sites unavailable: ${found.error}`];
    }
    const root = repositoryRoot(scenario.cwd, dirname(plan.file));
    const sites: NonNullable<ScenarioReport["sites"]> = {};
    if (found.sites.peak) sites.peak = relativeSites(found.sites.peak, root);
    if (found.sites.allocated) sites.allocated = relativeSites(found.sites.allocated, root);
    if (sites.peak || sites.allocated) sites.method = "traced";
    if (sites.peak || sites.allocated) out.sites = sites;
    // The timeline stays the normal run's: heap and RSS are drawn from one run, never from this one.
    changed = true;
    scenarios.push(out);
  }
  if (!changed) return report;
  return withSiteDiffs({ ...report, scenarios }, options.base);
}

/** The scenarios of a report that carry sites: what to attribute on the other side of a comparison. */
export function scenariosWithSites(report: Report): string[] {
  return report.scenarios
    .filter((s) => s.sites?.peak || s.sites?.allocated || s.sites?.retained)
    .map((s) => s.name);
}

/** The measured scenario: figures and runs, no budget (the judge puts those on). */
function scenarioReport(
  scenario: Scenario,
  runs: Run[],
  timeline: { t: number; rss: number }[] | undefined,
  budgetFile: string,
): ScenarioReport {
  const metrics: ScenarioReport["metrics"] = {};
  for (const [key, summary] of Object.entries(summarise(scenario.runtime, runs))) {
    metrics[key as MetricKey] = { ...summary, status: "pass" };
  }
  const failed = runs.filter((r) => r.error);
  const report: ScenarioReport = {
    name: scenario.name,
    command: scenario.run,
    runtime: scenario.runtime,
    cwd: scenario.cwd,
    tolerance: scenario.tolerance,
    status: failed.length > 0 ? "error" : "pass",
    metrics,
    runs: runs.map(runRecord),
    source: scenario.source,
    setup: scenarioSetup(scenario, runs, budgetFile),
  };
  if (failed.length > 0) {
    report.reason =
      failed.length === runs.length
        ? failed[0]!.error
        : `run ${failed[0]!.index} of ${runs.length}: ${failed[0]!.error}`;
  } else {
    // Every metric this runtime's probes give, and did not give here, says why (never a silent gap).
    const unavailable: NonNullable<ScenarioReport["unavailable"]> = {};
    for (const metric of METRIC_KEYS) {
      // A load metric means nothing for a command that runs to its end: not a gap to explain.
      if (!scenario.load && LOAD_METRICS.includes(metric)) continue;
      if (!metrics[metric]) unavailable[metric] = unavailableReason(scenario, runs, metric);
    }
    if (Object.keys(unavailable).length > 0) report.unavailable = unavailable;
  }
  if (timeline) report.timeline = timeline;
  // Every test, unbounded: the judge bounds the list once it knows which tests fail.
  const tests = summariseTests(runs);
  if (tests) {
    // A test's file as the annotations and the comment name it: relative to the repository.
    const root = repositoryRoot(scenario.cwd, scenario.cwd);
    for (const t of tests.tests) {
      if (t.location) t.location = { ...t.location, file: displayLocation(t.location.file, root) };
    }
    report.tests = tests.tests;
    report.testSummary = tests.summary;
  }
  return report;
}

function unavailableReason(scenario: Scenario, runs: Run[], metric: MetricKey): string {
  const never = NEVER_MEASURED[scenario.runtime][metric];
  if (never) return never;
  for (const run of runs) {
    const why = run.unavailable?.[metric];
    if (why) return why;
  }
  return `no probe measured ${METRICS[metric].label} for this ${scenario.runtime} workload`;
}

function runRecord(run: Run): RunRecord {
  return {
    index: run.index,
    exitCode: run.exitCode,
    signal: run.signal,
    timedOut: run.timedOut,
    ...(run.error
      ? { error: run.error, stdoutTail: run.stdoutTail.slice(-4096), stderrTail: run.stderrTail.slice(-4096) }
      : {}),
    figures: run.figures,
    instrumented: run.instrumented ?? true,
    processes: run.processes.length,
    ...(run.rounds ? { rounds: run.rounds } : {}),
  };
}

/** The machine's facts for the report (the Python version comes from the probe's files). */
function machineFacts(): Report["environment"] {
  const cpu = cpus();
  return {
    os: `${platform()} ${release()}`,
    arch: arch(),
    cpus: cpu.length,
    ...(cpu[0]?.model ? { cpuModel: cpu[0].model } : {}),
    memory: totalmem(),
    node: process.versions.node,
  };
}

/** The Python version as the probe saw it (asking `python3` here would cost a process start). */
function pythonVersionOf(runs: Run[]): string | undefined {
  for (const run of runs) {
    for (const p of run.processes) {
      const version = p.extra?.["python"];
      if (p.probe === "python" && typeof version === "string") return version;
    }
  }
  return undefined;
}
