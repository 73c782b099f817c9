// A load scenario's runs (docs/load.md): each run a fresh service on a fresh port under the
// probes plus the load probe, driven in rounds; and its attribution run, which names the lines
// whose live bytes grew between the end of warm-up and the last round.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import type { Scenario } from "../../config/types.js";
import { CancelledError } from "../../model/errors.js";
import type { Site } from "../../model/report.js";
import { LOAD_SAMPLE_INTERVAL } from "../../model/sites.js";
import { nodeProbeEnv, withRequire } from "../node-probe.js";
import { probeFile } from "../probe-files.js";
import { mergeProcessFigures, probeEnv, readProbeFiles } from "../probes.js";
import {
  isInstrumented,
  type MeasureHooks,
  runCount,
  runFromOutcome,
  type ScenarioMeasurement,
  wantsSampledSites,
} from "../scenario.js";
import { SITE_LIMIT } from "../sites.js";
import type { Run } from "../types.js";
import { workloadEnv } from "../workload-env.js";
import { quantile } from "./http-driver.js";
import { freePort } from "./port.js";
import { runService, type ServiceRun } from "./service.js";

type LoadScenario = Scenario & { load: NonNullable<Scenario["load"]> };

export async function measureLoadScenario(
  scenario: LoadScenario,
  hooks: MeasureHooks = {},
): Promise<ScenarioMeasurement> {
  const runs: Run[] = [];
  const notes = new Set<string>();
  let timeline: ScenarioMeasurement["timeline"];
  let retained: Site[] | undefined;
  // A Python service's latencies and RSS come from a clean run (always one: latency is the point).
  const count = runCount(scenario);
  for (let index = 1; index <= count; index++) {
    hooks.onRun?.({ scenario: scenario.name, index, of: count, phase: "start" });
    const outDir = mkdtempSync(join(tmpdir(), "membudget-load-"));
    try {
      const instrumented = isInstrumented(scenario, index);
      const probe = loadProbeEnv(scenario, outDir, instrumented ? "instrumented" : "clean");
      for (const note of probe.notes) notes.add(note);
      // The instrumented run samples its allocation sites (no attribution run): what grew from
      // warm-up's end to the last round, asked of the probes at those rounds. Python's through the
      // malloc interposer's sampler; Node.js's through V8's sampling heap profiler (load.cjs), in
      // the first run only, since every Node.js run is also one whose latencies count.
      const sampling =
        instrumented &&
        wantsSampledSites(scenario) &&
        (scenario.runtime === "node"
          ? index === 1
          : scenario.runtime === "python" && !!probe.env["LD_PRELOAD"]);
      if (sampling && scenario.runtime === "python")
        probe.env = { ...probe.env, MEMBUDGET_SITES_SAMPLE: String(LOAD_SAMPLE_INTERVAL) };
      const served = await serve(
        scenario,
        outDir,
        probe.env,
        hooks,
        sampling ? { limit: SITE_LIMIT } : undefined,
      );
      for (const note of served.notes) notes.add(note);
      if (sampling && served.sites && served.sites.length > 0) {
        const requests = requestsSinceWarmup(scenario, served);
        if (requests > 0)
          retained = served.sites.map((site) => ({ ...site, perRequest: site.bytes / requests }));
      }
      const run = runOf(scenario, index, instrumented, served, outDir);
      if (!timeline || !instrumented) timeline = served.outcome.timeline;
      runs.push(run);
      hooks.onRun?.({ scenario: scenario.name, index, of: count, phase: "end", run });
    } finally {
      cleanUp(outDir, hooks);
    }
  }
  for (const note of notes) hooks.onNote?.(note);
  return {
    runs,
    ...(timeline && timeline.length > 0 ? { timeline } : {}),
    ...(retained ? { sites: { retained, interval: LOAD_SAMPLE_INTERVAL, samples: 0 } } : {}),
    notes: [...notes],
  };
}

/** Requests served between the end of warm-up and the last round: what `perRequest` divides by. */
function requestsSinceWarmup(scenario: LoadScenario, served: ServiceRun): number {
  const markAfter = Math.max(1, scenario.load.warmup);
  const atMark = served.rounds.find((r) => r.round === markAfter)?.requests ?? 0;
  return (served.rounds.at(-1)?.requests ?? 0) - atMark;
}

export interface LoadAttribution {
  /** Sites whose live bytes grew most from warm-up's end to the last round (absolute paths). */
  retained?: Site[];
  /** Requests served between the mark and the last round: what `perRequest` divides by. */
  requests: number;
  error?: string;
  notes: string[];
}

/**
 * One extra run of a load scenario that looks for the lines that keep memory: Python under
 * tracemalloc (10 frames) with snapshots compared between the end of warm-up and the last round;
 * Node.js with V8's sampling heap profiler started at the end of warm-up and read after the last
 * round (only what is still alive then). Its figures are not used. The measured run samples the
 * same way (Python with the interposer, Node.js in its first run): this run is for `"sites":
 * "traced"`, and for a measured run whose sampling named nothing.
 */
export async function loadAttributionRun(
  scenario: LoadScenario,
  hooks: MeasureHooks = {},
  options: { limit?: number } = {},
): Promise<LoadAttribution> {
  if (scenario.runtime === "native")
    return { requests: 0, error: "no site probe for native programs", notes: [] };
  hooks.onAttribution?.({ scenario: scenario.name, phase: "start" });
  const outDir = mkdtempSync(join(tmpdir(), "membudget-load-sites-"));
  try {
    const probe = loadProbeEnv(scenario, outDir, "sites");
    const limit = options.limit ?? SITE_LIMIT;
    const served = await serve(scenario, outDir, probe.env, hooks, { limit });
    const requests = requestsSinceWarmup(scenario, served);
    const result: LoadAttribution = { requests, notes: served.notes };
    if (served.sites && requests > 0) {
      result.retained = served.sites.map((s) => ({ ...s, perRequest: s.bytes / requests }));
    }
    const error =
      served.error ??
      (result.retained && result.retained.length > 0 ? undefined : "no site grew after warm-up");
    if (error) result.error = error;
    hooks.onAttribution?.({ scenario: scenario.name, phase: "end", ...(error ? { error } : {}) });
    return result;
  } finally {
    cleanUp(outDir, hooks);
  }
}

async function serve(
  scenario: LoadScenario,
  outDir: string,
  env: NodeJS.ProcessEnv,
  hooks: MeasureHooks,
  sites?: { limit: number },
): Promise<ServiceRun> {
  const port = await freePort();
  const driveEnv = { ...workloadEnv(scenario.env), MEMBUDGET_PORT: String(port) };
  const served = await runService({
    scenario,
    port,
    env: { ...env, MEMBUDGET_PORT: String(port) },
    driveEnv,
    outDir,
    ...(sites ? { sites } : {}),
    ...(hooks.signal ? { signal: hooks.signal } : {}),
    ...(hooks.onOutput
      ? { onOutput: (stream, chunk) => hooks.onOutput?.(scenario.name, stream, chunk) }
      : {}),
  });
  if (hooks.signal?.aborted) throw new CancelledError();
  return served;
}

function runOf(
  scenario: LoadScenario,
  index: number,
  instrumented: boolean,
  served: ServiceRun,
  outDir: string,
): Run {
  const { outcome } = served;
  const merged = mergeProcessFigures(readProbeFiles(outDir), scenario.runtime);
  const figures: Run["figures"] = { ...merged.figures, wallTime: outcome.wallTime };
  // The largest single process's exact peak; the tree as a whole is peakPss (shared pages once).
  if (outcome.peakRss !== undefined) figures.peakRss = outcome.peakRss;
  if (outcome.peakPss !== undefined) figures.peakPss = outcome.peakPss;
  if (figures.allocated !== undefined && outcome.wallTime > 0)
    figures.allocationRate = figures.allocated / outcome.wallTime;
  const p50 = served.latencies ? quantile(served.latencies, 0.5) : undefined;
  const p99 = served.latencies ? quantile(served.latencies, 0.99) : undefined;
  if (p50 !== undefined) figures.p50Latency = p50;
  if (p99 !== undefined) figures.p99Latency = p99;
  if (served.throughput !== undefined) figures.throughput = served.throughput;
  const run: Run = {
    ...runFromOutcome(index, outcome, figures, merged.processes, instrumented),
    rounds: served.rounds,
  };
  const unavailable: NonNullable<Run["unavailable"]> = {};
  if (served.retainedUnavailable) unavailable.retainedPerRequest = served.retainedUnavailable;
  if (!scenario.load.url) {
    const why = "measured by the built-in HTTP driver only; this scenario drives itself (drive)";
    unavailable.p50Latency = why;
    unavailable.p99Latency = why;
  }
  if (scenario.runtime === "python" && instrumented && !interposerHasLive()) {
    const why =
      "Python load scenarios run under tracemalloc when the malloc interposer does not export its live bytes";
    unavailable.allocated = why;
    unavailable.allocations = why;
    unavailable.allocationRate = why;
  }
  if (Object.keys(unavailable).length > 0) run.unavailable = unavailable;
  if (served.error) run.error = served.error;
  else if (instrumented && scenario.runtime !== "native" && merged.processes.length === 0) {
    run.error = `the ${scenario.runtime === "python" ? "Python" : "Node.js"} probe wrote no figures: the service did not write them when it was stopped (does it exit on SIGTERM?), or it is not a ${scenario.runtime} program`;
  }
  return run;
}

/**
 * The environment of a load run: the runtime's probes (Node.js: with figures written on SIGTERM,
 * since the runner ends the service so) plus the load probe. Python's live heap comes from the
 * malloc interposer when it exports it (membudget_counters), else from tracemalloc, with the
 * interposer left out (it would count tracemalloc's own tables as the workload's).
 */
export function loadProbeEnv(
  scenario: Scenario,
  outDir: string,
  mode: "instrumented" | "clean" | "sites",
): { env: NodeJS.ProcessEnv; notes: string[] } {
  const baseEnv = workloadEnv(scenario.env);
  if (scenario.runtime === "node") {
    const probe = nodeProbeEnv(outDir, baseEnv, { signals: true });
    const nodeOptions = withRequire(probe.env["NODE_OPTIONS"] ?? "", probeFile("node", "load.cjs"));
    return { env: { ...probe.env, NODE_OPTIONS: nodeOptions, MEMBUDGET_LOAD: "1" }, notes: probe.notes };
  }
  if (scenario.runtime === "native") return { env: { ...baseEnv }, notes: [] };
  const live = mode === "instrumented" && interposerHasLive();
  const probe = probeEnv("python", outDir, baseEnv, { allocations: live });
  const notes = live
    ? probe.notes
    : mode === "instrumented"
      ? [
          "Python load scenarios: allocated and allocations unavailable, peakHeap and the retained heap from tracemalloc (the malloc interposer does not export its live bytes)",
        ]
      : [];
  const ours = probe.env["PYTHONPATH"]!;
  const cut = ours.indexOf(delimiter);
  const first = cut < 0 ? ours : ours.slice(0, cut);
  const rest = cut < 0 ? "" : ours.slice(cut);
  const env: NodeJS.ProcessEnv = {
    ...baseEnv,
    ...probe.env,
    // membudget's sitecustomize runs the next one on the path: the load hook, which runs the user's.
    PYTHONPATH: `${first}${delimiter}${probeFile("python-load")}${rest}`,
    MEMBUDGET_LOAD: "1",
  };
  if (mode === "clean") env["MEMBUDGET_HEAP"] = "0";
  if (mode === "sites") env["MEMBUDGET_LOAD_SITES"] = "1";
  return { env, notes };
}

let hasLive: boolean | undefined;
/** Whether the malloc interposer built from this version's source exports its live bytes. */
function interposerHasLive(): boolean {
  hasLive ??= (() => {
    try {
      const source = readFileSync(probeFile("native", "mbmalloc.c"), "utf8");
      return source.includes("membudget_counters(") || source.includes("membudget_live(");
    } catch {
      return false;
    }
  })();
  return hasLive;
}

function cleanUp(outDir: string, hooks: MeasureHooks): void {
  if (process.env["MEMBUDGET_KEEP_RUN_DIRS"] === "1") hooks.onNote?.(`probe files kept in ${outDir}`);
  else rmSync(outDir, { recursive: true, force: true });
}
