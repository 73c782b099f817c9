// One run of a load scenario: start the service (`run`, {port} substituted) under the probes,
// wait until it is ready, drive its requests in rounds, ask its probes what they retain after
// each round, then stop it (SIGTERM, grace, SIGKILL). Nothing it started is left running.
import type { Scenario } from "../../config/types.js";
import type { LoadRound, Site } from "../../model/report.js";
import { type RunOutcome, runOnce } from "../process/run.js";
import { repositoryRoot, retainedSampledSites } from "../sites.js";
import { askProbes, type ProbeAnswer } from "./boundary.js";
import { HttpDriver, type RoundResult } from "./http-driver.js";
import { withPort } from "./port.js";
import { waitUntilReady } from "./ready.js";

export interface ServiceRunSpec {
  scenario: Scenario & { load: NonNullable<Scenario["load"]> };
  port: number;
  /** The service's environment, probes included. */
  env: NodeJS.ProcessEnv;
  /** The environment of a `drive` command: the user's, without the probes. */
  driveEnv: NodeJS.ProcessEnv;
  outDir: string;
  /** Mark at the end of warm-up, list the grown sites after the last round (an attribution run, or a sampled measured run). */
  sites?: { limit: number };
  signal?: AbortSignal;
  onOutput?: (stream: "stdout" | "stderr", chunk: Buffer) => void;
}

export interface ServiceRun {
  outcome: RunOutcome;
  rounds: LoadRound[];
  /** Latencies of the rounds after warm-up (built-in driver), seconds. */
  latencies?: Float64Array;
  /** Requests answered per second over the rounds after warm-up. */
  throughput?: number;
  /** Why the run cannot be trusted (the service's own failure, or the driver's). */
  error?: string;
  /** Why the retained heap is missing, when it is. */
  retainedUnavailable?: string;
  sites?: Site[];
  notes: string[];
}

/** How long a failed request waits for the service's exit, to tell a crash from a bad answer. */
const EXIT_NOTICE_MS = 1000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/** The requests of each round: equal, the first rounds taking one more when they do not divide. */
export function roundSizes(requests: number, rounds: number): number[] {
  const base = Math.floor(requests / rounds);
  return Array.from({ length: rounds }, (_, i) => base + (i < requests % rounds ? 1 : 0));
}

export async function runService(spec: ServiceRunSpec): Promise<ServiceRun> {
  const { scenario, port } = spec;
  const load = scenario.load;
  const stop = new AbortController();
  const drive = new AbortController();
  let ended: RunOutcome | undefined;
  const service = runOnce(
    {
      command: withPort(scenario.run, port),
      cwd: scenario.cwd,
      env: spec.env,
      timeoutMs: scenario.timeout * 1000,
      graceMs: load.grace * 1000,
      stop: stop.signal,
      ...(spec.signal ? { signal: spec.signal } : {}),
    },
    spec.onOutput ? { onOutput: spec.onOutput } : {},
  ).then((outcome) => {
    ended = outcome;
    drive.abort();
    return outcome;
  });
  const exitedHow = () => (ended ? (ended.error ?? "it exited with code 0") : undefined);
  const result: Omit<ServiceRun, "outcome"> = { rounds: [], notes: [] };
  const http = load.url
    ? new HttpDriver({ url: withPort(load.url, port), method: load.method, concurrency: load.concurrency })
    : undefined;
  try {
    result.error = await drivenRounds(spec, http, drive.signal, exitedHow, service, result);
  } catch (error) {
    result.error = `the load run failed: ${(error as Error).message}`;
  } finally {
    await http?.close();
    stop.abort();
  }
  const outcome = await service;
  // Rounds that went well, then a service that would not stop: SIGKILL was needed.
  if (result.error === undefined && outcome.error) result.error = `stopping the service: ${outcome.error}`;
  return { outcome, ...result };
}

async function drivenRounds(
  spec: ServiceRunSpec,
  http: HttpDriver | undefined,
  signal: AbortSignal,
  exited: () => string | undefined,
  service: Promise<RunOutcome>,
  result: Omit<ServiceRun, "outcome">,
): Promise<string | undefined> {
  const load = spec.scenario.load;
  const readiness = await waitUntilReady(
    withPort(load.ready, spec.port),
    load.readyTimeout * 1000,
    exited,
    signal,
  );
  if (!readiness.ready) {
    const gone = exited();
    return gone ? `the service exited before it was ready: ${gone}` : readiness.why;
  }
  const sizes = roundSizes(load.requests, load.rounds);
  const markAfter = Math.max(1, load.warmup);
  const latencies: Float64Array[] = [];
  let served = 0;
  let measuredOk = 0;
  let measuredSeconds = 0;
  for (let r = 1; r <= load.rounds; r++) {
    const count = sizes[r - 1]!;
    const round = http
      ? await http.round(served, count, signal)
      : await driveRound(spec, r, served, count, signal);
    // Failed requests are most often a service that just died: give its exit a moment to arrive.
    if ("failed" in round || round.errors > 0) await Promise.race([service, sleep(EXIT_NOTICE_MS)]);
    const gone = exited();
    if (gone) return `the service exited during round ${r} of ${load.rounds}: ${gone}`;
    if ("failed" in round) return round.failed;
    if (round.errors > 0) {
      return `${round.errors} of ${count} requests of round ${r} failed; the first: ${round.firstError}`;
    }
    served += round.ok;
    if (r > load.warmup) {
      if (round.latencies.length > 0) latencies.push(round.latencies);
      measuredOk += round.ok;
      measuredSeconds += round.seconds;
    }
    const answers = await askProbes(spec.outDir, "retained");
    const retained = sumRetained(answers);
    if (retained.why) result.retainedUnavailable ??= retained.why;
    result.rounds.push({
      round: r,
      requests: served,
      ...(retained.bytes !== undefined ? { retained: retained.bytes } : {}),
      errors: round.errors,
      seconds: round.seconds,
    });
    if (spec.sites && r === markAfter) {
      const marked = await askProbes(spec.outDir, "mark");
      const failed = marked.find((a) => a.error);
      if (failed) result.notes.push(`allocation sites: ${failed.error}`);
    }
    if (spec.sites && r === load.rounds) {
      const answers = await askProbes(spec.outDir, `sites ${spec.sites.limit}`);
      const root = repositoryRoot(spec.scenario.cwd, spec.scenario.cwd);
      result.sites = mergeSites(
        answers.map((a) => (a.sampled ? { ...a, sites: retainedSampledSites(a.sampled, root) } : a)),
        spec.sites.limit,
      );
      const failed = answers.find((a) => a.error);
      if (failed && result.sites.length === 0) result.notes.push(`allocation sites: ${failed.error}`);
    }
  }
  if (http && latencies.length > 0) {
    const all = new Float64Array(latencies.reduce((n, l) => n + l.length, 0));
    let at = 0;
    for (const l of latencies) {
      all.set(l, at);
      at += l.length;
    }
    result.latencies = all;
  }
  if (measuredSeconds > 0) result.throughput = measuredOk / measuredSeconds;
  return undefined;
}

function sumRetained(answers: ProbeAnswer[]): { bytes?: number; why?: string } {
  if (answers.length === 0)
    return { why: "no load probe answered (the service runs no probed Python or Node.js process?)" };
  let bytes = 0;
  for (const a of answers) {
    if (typeof a.retained !== "number") return { why: a.error ?? a.how ?? "a probe gave no retained figure" };
    bytes += a.retained;
  }
  return { bytes };
}

function mergeSites(answers: ProbeAnswer[], limit: number): Site[] {
  return answers
    .flatMap((a) => a.sites ?? [])
    .filter((s) => s.bytes > 0)
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, limit);
}

/** The user's `drive` command for one round; its own failure is the run's error. */
async function driveRound(
  spec: ServiceRunSpec,
  round: number,
  first: number,
  count: number,
  signal: AbortSignal,
): Promise<RoundResult | { failed: string }> {
  const drive = spec.scenario.load.drive!;
  const outcome = await runOnce({
    command: withPort(drive, spec.port),
    cwd: spec.scenario.cwd,
    env: {
      ...spec.driveEnv,
      MEMBUDGET_ROUND: String(round),
      MEMBUDGET_REQUESTS: String(count),
      MEMBUDGET_FIRST_REQUEST: String(first),
      MEMBUDGET_PORT: String(spec.port),
    },
    timeoutMs: spec.scenario.timeout * 1000,
    graceMs: 2000,
    signal,
    useRsswrap: false,
  });
  if (signal.aborted) return { ok: 0, errors: 0, seconds: outcome.wallTime, latencies: new Float64Array(0) };
  if (outcome.error) {
    const tail = outcome.stderrTail.trim().split("\n").slice(-3).join(" / ");
    return {
      failed: `the drive command failed in round ${round}: ${outcome.error}${tail ? ` (${tail})` : ""}`,
    };
  }
  return { ok: count, errors: 0, seconds: outcome.wallTime, latencies: new Float64Array(0) };
}
