// The engine both adapters share: a Plan in, a judged Report out (measure → summarise → judge).
import { arch, cpus, platform, release, totalmem } from "node:os";
import { dirname } from "node:path";
import { type Shard, splitScenarios } from "../config/shard.js";
import type { Plan, Scenario } from "../config/types.js";
import { prepareNativeTools } from "../measure/native.js";
import { attributionRun, type MeasureHooks, nativeHelpers } from "../measure/scenario.js";
import { relativeSites, repositoryRoot, SITE_LIMIT, wantsSites } from "../measure/sites.js";
import type { Run } from "../measure/types.js";
import { UsageError } from "../model/errors.js";
import { LOAD_METRICS, METRIC_KEYS, METRICS, type MetricKey, NEVER_MEASURED } from "../model/metrics.js";
import {
  REPORT_VERSION,
  type Report,
  type RunRecord,
  type ScenarioReport,
  type ShardInfo,
} from "../model/report.js";
import { VERSION } from "../model/version.js";
import { budgetsOfPlan } from "../verdict/budgets.js";
import { judge, withSiteDiffs } from "../verdict/judge.js";
import { summarise } from "../verdict/summarise.js";
import { summariseTests } from "../verdict/tests.js";
import { attributeLoad, isLoad, loadSummary, measureLoad, wantsLoadSites } from "./load.js";
import { measureScenarios } from "./schedule.js";
import { scenarioSetup } from "./setup.js";

export interface RunOptions extends MeasureHooks {
  /** Only these scenarios (by name); all when empty. */
  only?: string[];
  base?: Report;
  baseSource?: string;
  /** The commit measured, or how to look it up (the CLI's git), which runs while the first workload does. */
  commit?: string | (() => Promise<string | undefined>);
  /**
   * The base, worked out once the head is measured (and before it is judged): the Action reuses a
   * stored report's figures where the head's setups match and measures the rest. Wins over `base`.
   */
  resolveBase?: (head: Report) => Promise<{ report: Report; source: string } | undefined>;
  /** Probed runs measured side by side (engine/schedule.ts); 1, the default, measures one run at a time. */
  jobs?: number;
  /** Path of the budget file as the user named it (for the report and annotations). */
  budgetFileLabel?: string;
  /** Measure only this shard of the selected scenarios. */
  shard?: Shard;
  /** Seconds each scenario took before (`costsOf` an earlier report): balances the shards. */
  balance?: ReadonlyMap<string, number>;
  /** The balance report as the user named it (recorded in the shard identity). */
  balanceSource?: string;
}

export async function runPlan(plan: Plan, options: RunOptions = {}): Promise<Report> {
  const { scenarios, shard } = shardOfPlan(plan, options);
  const reports: ScenarioReport[] = [];
  const notes = new Set<string>();
  let python: string | undefined;
  // What the report needs and no workload does is worked out while the first workload runs
  // (a spawn of git is ~3 ms of this thread, node:crypto ~4 ms to load), or at the end if none ran.
  let lookup: Promise<string | undefined> | undefined;
  const commitOf = () => {
    const { commit } = options;
    lookup ??= typeof commit === "function" ? commit() : Promise.resolve(commit);
    return lookup;
  };
  let machine: Report["environment"] | undefined;
  const machineOf = () => {
    machine ??= machineFacts();
    return machine;
  };
  let idle = false;
  // A load scenario starts no onStarted: with only those, HEAD is read before they run.
  if (!scenarios.some((s) => !isLoad(s))) void commitOf();
  const hooks: RunOptions = {
    ...options,
    onStarted: (name) => {
      options.onStarted?.(name);
      if (idle) return;
      idle = true;
      // What the report needs besides the figures, while the workload runs (not after it).
      setImmediate(() => {
        void commitOf();
        void plan.digest;
        machineOf();
      });
    },
  };
  await prepareNativeTools(nativeHelpers(scenarios));
  const measurements = await measureScenarios(scenarios, hooks, options.jobs ?? 1, (s) =>
    isLoad(s) ? measureLoad(s, options) : undefined,
  );
  for (const [i, scenario] of scenarios.entries()) {
    const measured = measurements[i]!;
    python ??= pythonVersionOf(measured.runs);
    for (const n of measured.notes) notes.add(n);
    const report = scenarioReport(scenario, measured.runs, measured.timeline, plan.file);
    const load = isLoad(scenario) ? loadSummary(scenario, measured.runs) : undefined;
    reports.push(load ? { ...report, load } : report);
  }
  const commit = await commitOf();
  const measured: Report = {
    version: REPORT_VERSION,
    tool: { name: "membudget", version: VERSION },
    createdAt: new Date().toISOString(),
    budgetFile: options.budgetFileLabel ?? plan.file,
    ...(plan.digest ? { budgetDigest: plan.digest } : {}),
    ...(commit ? { commit } : {}),
    ...(shard ? { shard } : {}),
    environment: { ...machineOf(), ...(python ? { python } : {}) },
    status: "pass",
    summary: "",
    scenarios: reports,
    ...(notes.size > 0 ? { notes: [...notes] } : {}),
  };
  const resolved = options.resolveBase
    ? await options.resolveBase(measured)
    : options.base && { report: options.base, source: options.baseSource ?? "base report" };
  // A shard judged against a whole base must not call the other shards' scenarios removed.
  const base =
    resolved && shard
      ? {
          ...resolved.report,
          scenarios: resolved.report.scenarios.filter(
            (b) => scenarios.some((s) => s.name === b.name) || !plan.scenarios.some((s) => s.name === b.name),
          ),
        }
      : resolved?.report;
  const report: Report = resolved ? { ...measured, base: { source: resolved.source } } : measured;
  const judged = judge(report, {
    budgets: budgetsOfPlan(plan),
    ...(base ? { base } : {}),
  });
  return attributeSites(plan, judged, { ...options, ...(base ? { base } : {}) });
}

/** The scenarios to measure: the selection, or this shard's part of it, with the shard's identity. */
export function shardOfPlan(
  plan: Plan,
  options: Pick<RunOptions, "only" | "shard" | "balance" | "balanceSource">,
): { scenarios: Scenario[]; shard?: ShardInfo } {
  const selected = selectScenarios(plan, options.only);
  if (!options.shard) return { scenarios: selected };
  const { index, total } = options.shard;
  const names = selected.map((s) => s.name);
  const split = splitScenarios(names, total, options.balance);
  const assigned = new Map(
    split.flatMap((shardNames, i) => shardNames.map((n): [string, number] => [n, i + 1])),
  );
  return {
    scenarios: selected.filter((s) => assigned.get(s.name) === index),
    shard: {
      index,
      total,
      selected: names,
      assigned: names.map((n) => assigned.get(n)!),
      ...(options.balanceSource ? { balance: options.balanceSource } : {}),
    },
  };
}

export interface AttributeOptions extends MeasureHooks {
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
    if (!wanted) {
      scenarios.push(s);
      continue;
    }
    if (isLoad(scenario)) {
      scenarios.push(
        await attributeLoad(scenario, s, dirname(plan.file), options, options.limit ?? SITE_LIMIT),
      );
      changed = true;
      continue;
    }
    const wall = s.metrics.wallTime?.value ?? 0;
    // tracemalloc with stacks runs several times slower than the normal run: allow for it.
    const timeoutMs = Math.max(scenario.timeout, wall * 12 + 30) * 1000;
    const found = await attributionRun(scenario, options, { limit: options.limit ?? SITE_LIMIT, timeoutMs });
    const out: ScenarioReport = { ...s };
    if (found.error) {
      out.notes = [...(s.notes ?? []), `allocation sites unavailable: ${found.error}`];
    }
    const root = repositoryRoot(scenario.cwd, dirname(plan.file));
    const sites: NonNullable<ScenarioReport["sites"]> = {};
    if (found.sites.peak) sites.peak = relativeSites(found.sites.peak, root);
    if (found.sites.allocated) sites.allocated = relativeSites(found.sites.allocated, root);
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

export function selectScenarios(plan: Plan, only: string[] | undefined): Scenario[] {
  if (!only || only.length === 0) return plan.scenarios;
  const names = new Set(plan.scenarios.map((s) => s.name));
  const unknown = only.filter((n) => !names.has(n));
  if (unknown.length > 0) {
    throw new UnknownScenarioError(unknown, [...names]);
  }
  return plan.scenarios.filter((s) => only.includes(s.name));
}

export class UnknownScenarioError extends UsageError {
  constructor(unknown: string[], known: string[]) {
    super(
      `no scenario named ${unknown.map((n) => JSON.stringify(n)).join(", ")}; the budget file has: ${known.join(", ")}`,
    );
    this.name = "UnknownScenarioError";
  }
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
