// Runs one scenario `repeat` times under its runtime's probe and turns each execution into a Run.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import type { Scenario } from "../config/types.js";
import { epochMs } from "../model/clock.js";
import { CancelledError } from "../model/errors.js";
import { CLEAN_RUN_METRICS, type MetricKey, NEVER_MEASURED } from "../model/metrics.js";
import type { Site, TimelinePoint } from "../model/report.js";
import { SAMPLE_INTERVAL } from "../model/sites.js";
import type { NativeKind } from "./native.js";
import { nodeProbeEnv, REPEATABLE_FLAGS } from "./node-probe.js";
import { mergeProcessFigures, probeEnv, readProbeFiles } from "./probes.js";
import { runOnce } from "./process/run.js";
import { readTestFiles, withProcessPeaks, withPytestPlugin, withTestSites } from "./pytest-probe.js";
import {
  nodeSitesOfRun,
  ownCodeOf,
  relativeSites,
  repositoryRoot,
  type SampledSites,
  SITE_LIMIT,
  sampledSitesOfRun,
  sitesOfRun,
} from "./sites.js";
import { heapTimelineOfRun, mergeHeapTimeline } from "./timeline.js";
import type { ProcessFigures, Run } from "./types.js";
import { unavailableOf } from "./unavailable.js";
import { workloadEnv } from "./workload-env.js";

/** The figures the in-process probes give: all withdrawn when a process hid from them. */
const PROBE_METRICS: readonly MetricKey[] = [
  "peakHeap",
  "allocated",
  "allocations",
  "allocationRate",
  "peakExternal",
  "gcPause",
  "gcCollections",
];

export interface MeasureHooks {
  /** Called before each run starts and after it ends, for progress lines. */
  onRun?(event: {
    scenario: string;
    index: number;
    of: number;
    phase: "start" | "end";
    run?: Run;
    /** Other runs may be going on at the same time (a progress line must be whole). */
    parallel?: boolean;
  }): void;
  /** Streams the workload's output (only with --verbose). */
  onOutput?(scenario: string, stream: "stdout" | "stderr", chunk: Buffer): void;
  /** A note said once per distinct text (e.g. "allocation totals unavailable: no C compiler"). */
  onNote?(note: string): void;
  /** Called before and after a scenario's attribution run (the extra run that finds allocation sites). */
  onAttribution?(event: {
    scenario: string;
    phase: "start" | "end";
    error?: string;
    /** The measured run's wall time, seconds: the traced run takes several times as long. */
    measuredSeconds?: number;
  }): void;
  /** Aborting stops the running workload (like a timeout) and every run after it: CancelledError. */
  signal?: AbortSignal;
  /** Metrics the caller needs beside the budgeted ones (`update --metrics`): they decide the clean run too. */
  measure?: readonly MetricKey[];
}

export interface ScenarioMeasurement {
  runs: Run[];
  /** RSS over one run, with the heap of the same run where a probe gives it (see chooseTimeline). */
  timeline?: TimelinePoint[];
  /** Python: allocation sites sampled in the instrumented run (absolute paths). */
  sites?: SampledSites;
  notes: string[];
}

export async function measureScenario(
  scenario: Scenario,
  hooks: MeasureHooks = {},
): Promise<ScenarioMeasurement> {
  const count = runCount(scenario, hooks.measure);
  const parts: RunMeasurement[] = [];
  for (let index = 1; index <= count; index++) {
    const part = await measureRun(scenario, index, count, hooks);
    parts.push(part);
    // A run that timed out makes the scenario an error: another run would only take as long again.
    if (part.run.timedOut) break;
  }
  return assembleRuns(parts, hooks);
}

/** One run of a scenario, with what the scenario's measurement keeps of it besides the Run. */
export interface RunMeasurement {
  run: Run;
  /** The run's RSS timeline, with its heap where a probe gave one. */
  timeline: TimelinePoint[];
  /** Notes of the probe's environment and of the runner. */
  notes: string[];
  /** Allocation sites sampled in this run (run 1 only: see wantsSampledSites). */
  sites?: SampledSites;
}

/**
 * Run `index` of `count` of a scenario. `parallel` says that other runs may be going on at the
 * same time (only runs whose figures do not depend on timing are run so: see engine/schedule.ts).
 */
export async function measureRun(
  scenario: Scenario,
  index: number,
  count: number,
  hooks: MeasureHooks = {},
  parallel = false,
): Promise<RunMeasurement> {
  const notes = new Set<string>();
  hooks.onRun?.({
    scenario: scenario.name,
    index,
    of: count,
    phase: "start",
    ...(parallel ? { parallel } : {}),
  });
  const outDir = mkdtempSync(join(tmpdir(), "membudget-run-"));
  try {
    const baseEnv = workloadEnv(scenario.env);
    const instrumented = isInstrumented(scenario, index);
    const probe = probeFor(scenario, outDir, baseEnv, instrumented);
    // Sites from the measured run: Python's sampled by the allocation probe in its instrumented
    // run, Node's by V8's sampling heap profiler in the first run (live at exit).
    const sampling = wantsSampledSites(scenario) && index === 1;
    if (sampling) probe.env = { ...probe.env, ...sampleEnv(scenario, baseEnv) };
    for (const note of probe.notes) notes.add(note);
    // The probes stamp heap points with the wall clock; the runner's timeline starts at spawn.
    const startedAtMs = epochMs();
    const outcome = await runOnce(
      {
        command: scenario.run,
        cwd: scenario.cwd,
        // The scenario's env may set MEMBUDGET_SOURCE_ROOT itself ("" keeps the caches as they are).
        env: { ...sourceRootEnv(scenario), ...baseEnv, ...probe.env },
        timeoutMs: scenario.timeout * 1000,
        // The allocation probe publishes each process's live heap there (<pid>.live).
        liveDir: outDir,
        // Every process is checked for its figures (a workload must not hide one from the probes).
        ...(probe.env["MEMBUDGET_OUT_DIR"] ? { probes: { dir: outDir, runtime: scenario.runtime } } : {}),
        ...(hooks.signal ? { signal: hooks.signal } : {}),
      },
      {
        ...(hooks.onOutput
          ? { onOutput: (stream, chunk) => hooks.onOutput?.(scenario.name, stream, chunk) }
          : {}),
      },
    );
    if (hooks.signal?.aborted) throw new CancelledError();
    for (const note of outcome.notes) notes.add(note);
    const files = readProbeFiles(outDir);
    const unrepeatable = scenario.runtime === "node" ? unrepeatableNodeNote(probe.env, files) : undefined;
    if (unrepeatable) notes.add(unrepeatable);
    const merged = mergeProcessFigures(files, scenario.runtime);
    const tests =
      scenario.runtime === "python"
        ? readTestFiles(outDir, (message) => process.emitWarning(message, "MembudgetProbeWarning"))
        : undefined;
    if (tests && instrumented) {
      const peaks = withProcessPeaks(merged.processes, tests.processPeaks);
      merged.processes = peaks.processes;
      if (peaks.peakHeap !== undefined) merged.figures.peakHeap = peaks.peakHeap;
    }
    // A process that hid from the probes, or figures changed after their process ended: the
    // probes' figures are not the workload's, so none of them is given.
    if (outcome.probeGaps) for (const key of PROBE_METRICS) delete merged.figures[key];
    let sampled: SampledSites | undefined;
    if (sampling) {
      const root = repositoryRoot(scenario.cwd, scenario.cwd);
      sampled =
        scenario.runtime === "node"
          ? nodeSitesOfRun(merged.processes, root)
          : sampledSitesOfRun(merged.processes, root);
      if (sampled && tests) withTestSites(tests, sampled, (sites) => relativeSites(sites, root));
    }
    const figures: Run["figures"] = { ...merged.figures, wallTime: outcome.wallTime };
    // The largest single process's exact peak; the tree as a whole is peakPss (shared pages once).
    if (outcome.peakRss !== undefined) figures.peakRss = outcome.peakRss;
    if (outcome.peakPss !== undefined) figures.peakPss = outcome.peakPss;
    if (figures.allocated !== undefined && outcome.wallTime > 0) {
      figures.allocationRate = figures.allocated / outcome.wallTime;
    }
    const run: Run = {
      ...runFromOutcome(index, outcome, figures, merged.processes, instrumented),
      ...(tests ? { tests } : {}),
    };
    const unavailable = unavailableOf({
      runtime: scenario.runtime,
      instrumented,
      probeNotes: probe.notes,
      processes: merged.processes,
      figures,
      withoutCleanRun: count === 1 && scenario.runtime !== "node",
    });
    if (outcome.probeGaps) {
      for (const key of PROBE_METRICS) {
        if (NEVER_MEASURED[scenario.runtime][key] === undefined) unavailable[key] = outcome.probeGaps;
      }
      delete run.tests;
    }
    if (Object.keys(unavailable).length > 0) run.unavailable = unavailable;
    const error =
      outcome.error ?? (instrumented ? missingFigures(scenario, merged.processes.length) : undefined);
    if (error) run.error = error;
    // Node's probe stamps its heap points itself; Python's and native heaps were sampled beside
    // RSS by the runner (the allocation probe's <pid>.live pages).
    const heap = heapTimelineOfRun(merged.processes, startedAtMs);
    const timeline = heap.length > 0 ? mergeHeapTimeline(outcome.timeline, heap) : outcome.timeline;
    hooks.onRun?.({
      scenario: scenario.name,
      index,
      of: count,
      phase: "end",
      run,
      ...(parallel ? { parallel } : {}),
    });
    return { run, timeline, notes: [...notes], ...(sampled ? { sites: sampled } : {}) };
  } finally {
    // MEMBUDGET_KEEP_RUN_DIRS=1 keeps the probes' raw files, for debugging a probe.
    if (process.env["MEMBUDGET_KEEP_RUN_DIRS"] === "1") hooks.onNote?.(`probe files kept in ${outDir}`);
    else rmSync(outDir, { recursive: true, force: true });
  }
}

/** A scenario's measurement from its runs, in index order: the runs, the timeline chosen, the notes. */
export function assembleRuns(parts: RunMeasurement[], hooks: MeasureHooks = {}): ScenarioMeasurement {
  const notes = new Set<string>();
  let timeline: TimelinePoint[] | undefined;
  let timelineInstrumented = true;
  let timelineHeap = false;
  let sampled: SampledSites | undefined;
  for (const part of parts) {
    for (const note of part.notes) notes.add(note);
    if (part.sites) sampled = part.sites;
    const instrumented = part.run.instrumented ?? true;
    const candidateHeap = part.timeline.some((p) => p.heap !== undefined);
    if (
      chooseTimeline(
        { timeline, instrumented: timelineInstrumented, heap: timelineHeap },
        { instrumented, heap: candidateHeap },
      )
    ) {
      timeline = part.timeline;
      timelineInstrumented = instrumented;
      timelineHeap = candidateHeap;
    }
  }
  for (const note of notes) hooks.onNote?.(note);
  return {
    runs: parts.map((p) => p.run),
    ...(timeline && timeline.length > 0 ? { timeline } : {}),
    ...(sampled ? { sites: sampled } : {}),
    notes: [...notes],
  };
}

/**
 * Python and Node.js scenarios sample their allocation sites in the measured run unless told
 * otherwise ("never"; "traced" asks for Python's traced run instead).
 */
export function wantsSampledSites(scenario: Scenario): boolean {
  if (scenario.sites === "never" || scenario.runtime === "native") return false;
  return scenario.runtime === "node" || scenario.sites !== "traced";
}

/** MEMBUDGET_SITES_INTERVAL (bytes) overrides Python's mean sampling interval, for tests and the curious. */
function sampleEnv(scenario: Scenario, baseEnv: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (scenario.runtime === "node") return { MEMBUDGET_SITES: String(SITE_LIMIT * 5) };
  const asked = Number(baseEnv["MEMBUDGET_SITES_INTERVAL"]);
  const interval = Number.isInteger(asked) && asked > 0 ? asked : SAMPLE_INTERVAL;
  return { MEMBUDGET_SITES_SAMPLE: String(interval) };
}

export interface Attribution {
  /** Sites of the attribution run, locations as the probes wrote them (absolute paths). */
  sites: { peak?: Site[]; allocated?: Site[] };
  /** Why no sites came back (the run failed, or the probe has none for this runtime). */
  error?: string;
  notes: string[];
}

/**
 * One extra run of a scenario that only looks for allocation sites (MEMBUDGET_SITES=N): Python
 * under tracemalloc with stacks and no malloc interposer; Node.js with V8's sampling heap profiler.
 * Its figures are distorted by that instrumentation and are not used. Native programs have no
 * site probe.
 */
export async function attributionRun(
  scenario: Scenario,
  hooks: MeasureHooks = {},
  options: { limit?: number; timeoutMs?: number; measuredSeconds?: number } = {},
): Promise<Attribution> {
  const limit = options.limit ?? SITE_LIMIT;
  if (scenario.runtime === "native") {
    return { sites: {}, error: "no site probe for native programs", notes: [] };
  }
  hooks.onAttribution?.({
    scenario: scenario.name,
    phase: "start",
    ...(options.measuredSeconds !== undefined ? { measuredSeconds: options.measuredSeconds } : {}),
  });
  const outDir = mkdtempSync(join(tmpdir(), "membudget-sites-"));
  try {
    const baseEnv = workloadEnv(scenario.env);
    const probe =
      scenario.runtime === "node"
        ? nodeProbeEnv(outDir, baseEnv)
        : probeEnv("python", outDir, baseEnv, { allocations: false });
    const outcome = await runOnce(
      {
        command: scenario.run,
        cwd: scenario.cwd,
        env: { ...baseEnv, ...probe.env, MEMBUDGET_SITES: String(limit) },
        timeoutMs: options.timeoutMs ?? scenario.timeout * 1000,
        ...(hooks.signal ? { signal: hooks.signal } : {}),
      },
      hooks.onOutput ? { onOutput: (stream, chunk) => hooks.onOutput?.(scenario.name, stream, chunk) } : {},
    );
    if (hooks.signal?.aborted) throw new CancelledError();
    const merged = mergeProcessFigures(readProbeFiles(outDir), scenario.runtime);
    const sites = sitesOfRun(merged.processes, limit, ownCodeOf(repositoryRoot(scenario.cwd, scenario.cwd)));
    const result: Attribution = { sites, notes: outcome.notes };
    const error =
      outcome.error ?? (sites.peak || sites.allocated ? undefined : "the probe wrote no allocation sites");
    if (error) result.error = error;
    hooks.onAttribution?.({ scenario: scenario.name, phase: "end", ...(error ? { error } : {}) });
    return result;
  } finally {
    if (process.env["MEMBUDGET_KEEP_RUN_DIRS"] === "1") hooks.onNote?.(`probe files kept in ${outDir}`);
    else rmSync(outDir, { recursive: true, force: true });
  }
}

/**
 * The allocation probe (the malloc interposer and its wrap of Python's allocator) adds a 16-byte
 * header to every block, which inflates RSS (most for many small objects), and costs Python
 * 4–9 % of CPU time on allocation-heavy code (more once the runner's own start-up is counted).
 * Its figures are deterministic, so one run gives them: the first run is instrumented and the
 * others are clean, and wall time, RSS and GC pause come from the clean runs only. Node's probe
 * is cheap: always on.
 */
export function isInstrumented(scenario: Scenario, index: number): boolean {
  return scenario.runtime === "node" || index === 1;
}

/**
 * How many times a scenario runs: `repeat`, except that one repeat of a Python or native scenario
 * runs twice, the instrumented run plus one clean run, when a figure the probe distorts (RSS:
 * +21–85 %, wall time: 1.4–8× with the old probe; +12 % and 1.06× with this one) is needed: so
 * that such a figure never comes from the probed run, and the run is not paid for when nothing
 * asks for it.
 */
export function runCount(scenario: Scenario, wanted: readonly MetricKey[] = []): number {
  if (scenario.runtime === "node" || scenario.repeat > 1) return scenario.repeat;
  return needsCleanRun(scenario, wanted) ? 2 : 1;
}

/**
 * Whether a one-repeat scenario needs its clean run: `cleanRun: "always"`, a load scenario (its
 * latencies are the point), or a budget (the scenario's, a test's, or one the caller will set, as
 * `update --metrics` does) on a figure only a clean run gives.
 */
export function needsCleanRun(scenario: Scenario, wanted: readonly MetricKey[] = []): boolean {
  if (scenario.cleanRun === "always" || scenario.load) return true;
  const budgeted = [
    ...Object.keys(scenario.budget),
    ...(scenario.tests ?? []).flatMap((rule) => Object.keys(rule.budget)),
    ...wanted,
  ] as MetricKey[];
  return budgeted.some((metric) => CLEAN_RUN_METRICS.has(metric));
}

/**
 * Whether a run's timeline replaces the one kept so far. The chart draws heap and RSS from one
 * run, on one clock: the first run whose timeline has a heap line (the instrumented run; its RSS is
 * the probed process's, see docs/measurement.md) is kept over any other. With no heap line at
 * all (no allocation probe), a clean run's RSS is preferred, as the probe inflates RSS.
 */
export function chooseTimeline(
  kept: { timeline: TimelinePoint[] | undefined; instrumented: boolean; heap: boolean },
  next: { instrumented: boolean; heap: boolean },
): boolean {
  if (!kept.timeline) return true;
  if (kept.heap) return false;
  return next.heap || (kept.instrumented && !next.instrumented);
}

/**
 * The native helpers these scenarios run (probeFor's, and a load run's): rsswrap under every
 * workload, the malloc interposer under all but Node.js ones.
 */
export function nativeHelpers(scenarios: Scenario[]): [string, NativeKind][] {
  if (scenarios.length === 0) return [];
  const helpers: [string, NativeKind][] = [["rsswrap", "executable"]];
  if (scenarios.some((s) => s.runtime !== "node")) helpers.push(["mbmalloc", "shared"]);
  return helpers;
}

function probeFor(scenario: Scenario, outDir: string, baseEnv: NodeJS.ProcessEnv, instrumented: boolean) {
  if (scenario.runtime === "node") return nodeProbeEnv(outDir, baseEnv);
  if (scenario.runtime === "native")
    return instrumented ? probeEnv("native", outDir, baseEnv) : { env: {}, notes: [] };
  // Under pytest, the plugin records every test (heap figures in the instrumented run only).
  if (instrumented) {
    const probe = probeEnv("python", outDir, baseEnv);
    return { ...probe, env: withPytestPlugin(probe.env, baseEnv) };
  }
  // A clean Python run keeps the GC callbacks (cheap) but measures no heap.
  const clean = probeEnv("python", outDir, baseEnv, { allocations: false });
  return { env: { ...withPytestPlugin(clean.env, baseEnv), MEMBUDGET_HEAP: "0" }, notes: [] };
}

/**
 * The repository whose own modules the Python probe compiles from source at every start, ignoring
 * any __pycache__ (sitecustomize.py's _membudget_no_pyc): the figures of a checkout whose tests ran
 * before and of a fresh base worktree are then the same.
 */
function sourceRootEnv(scenario: Scenario): NodeJS.ProcessEnv {
  if (scenario.runtime !== "python") return {};
  return { MEMBUDGET_SOURCE_ROOT: repositoryRoot(scenario.cwd, scenario.cwd) };
}

/** A probed runtime whose probe wrote nothing did not run what the user thinks it ran. */
function missingFigures(scenario: Scenario, processes: number): string | undefined {
  if (processes > 0 || scenario.runtime === "native") return undefined;
  const what = scenario.runtime === "python" ? "Python" : "Node.js";
  return `the ${what} probe wrote no figures: the command exited before ${what} finished (killed by a signal?), or it did not start ${what} at all (set "runtime" in the budget file if it is not a ${what} workload)`;
}

/** A Run from one execution's outcome: the part every kind of scenario records the same way. */
export function runFromOutcome(
  index: number,
  outcome: Pick<
    Run,
    "exitCode" | "signal" | "timedOut" | "stdoutTail" | "stderrTail" | "stdoutBytes" | "stderrBytes"
  >,
  figures: Run["figures"],
  processes: Run["processes"],
  instrumented: boolean,
): Run {
  return {
    index,
    exitCode: outcome.exitCode,
    signal: outcome.signal,
    timedOut: outcome.timedOut,
    figures,
    processes,
    stdoutTail: outcome.stdoutTail,
    stderrTail: outcome.stderrTail,
    stdoutBytes: outcome.stdoutBytes,
    stderrBytes: outcome.stderrBytes,
    instrumented,
  };
}

/**
 * Said when a Node.js process of a run that asked for repeatable figures ran without the runner's
 * flags (started by its path, or from a PATH the workload set, past the runner's `node`): its
 * heap peak may flip between GC schedules from run to run.
 */
function unrepeatableNodeNote(env: NodeJS.ProcessEnv, files: ProcessFigures[]): string | undefined {
  if (env["MEMBUDGET_NODE_PREDICTABLE"] !== "1") return undefined;
  const without = files.filter((f) => f.probe === "node" && f.extra?.["repeatable"] === false);
  if (without.length === 0) return undefined;
  // Named by program, not pid: the same note for every run of the scenario.
  const programs = [...new Set(without.map((f) => basename(f.argv?.[1] ?? f.argv?.[0] ?? "node")))];
  const named =
    programs.slice(0, 3).join(", ") + (programs.length > 3 ? ` and ${programs.length - 3} more` : "");
  return `Node.js ran ${named} without ${REPEATABLE_FLAGS.join(" ")} (started by its own path, or from a PATH the workload set): V8 compiled and collected on other threads, so its heap figures may move a few percent from run to run`;
}
