// What runOnce (run.ts) is given and gives back: one command under measurement, and its outcome.
import type { Runtime } from "../../model/metrics.js";
import type { TimelinePoint } from "../../model/report.js";

export interface RunSpec {
  /** Run through `/bin/sh -c`. */
  command: string;
  cwd: string;
  /** The complete environment of the workload (nothing is inherited implicitly). */
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** Time between SIGTERM and SIGKILL on timeout (default 5000). */
  graceMs?: number;
  /** Bytes kept of each stream's end (default 64 KiB); byte counts are always total. */
  outputLimit?: number;
  /** Timeline sampling period (default 20 ms). */
  sampleIntervalMs?: number;
  /** Stops the workload like a timeout does (SIGTERM, grace, SIGKILL); error says "cancelled". */
  signal?: AbortSignal;
  /** Where the allocation probe publishes live heaps (`<pid>.live`): sampled into the timeline. */
  liveDir?: string;
  /** A service is done with (load scenarios): stopped as on a timeout, but exiting in the grace is no error. */
  stop?: AbortSignal;
  /**
   * The probes' directory ($MEMBUDGET_OUT_DIR) and the scenario's runtime: every process is
   * checked for its figure files (RunOutcome.probeGaps).
   */
  probes?: { dir: string; runtime: Runtime };
  /** false runs the command without rsswrap (peakRss then comes from sampling); for tests. */
  useRsswrap?: boolean;
}

export interface RunOutcome {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** Seconds from start to the command's exit (rsswrap's monotonic clock when available). */
  wallTime: number;
  /** Bytes: the largest single process's peak RSS (ru_maxrss from rsswrap; sampled otherwise). */
  peakRss?: number;
  /** Bytes: the largest sum of VmRSS over the tree seen by sampling (counts shared pages twice). */
  peakRssTree?: number;
  /** Bytes: the largest sum of PSS over the tree seen by sampling (a shared page counted once). */
  peakPss?: number;
  /** At most TIMELINE_POINTS points, evenly spread in time, each its bucket's highest sample. */
  timeline: TimelinePoint[];
  stdoutTail: string;
  stderrTail: string;
  stdoutBytes: number;
  stderrBytes: number;
  notes: string[];
  /** Why the run cannot be trusted: non-zero exit, signal, timeout, failure to start. */
  error?: string;
  /**
   * With `probes`: why the probes' figures are incomplete (a process of the runtime that left
   * none, a figure file deleted or rewritten after its process ended); unset when they are whole.
   */
  probeGaps?: string;
}

export interface RunHooks {
  /** Called with each piece of output as it arrives; the chunk is the hook's to keep. */
  onOutput?(stream: "stdout" | "stderr", chunk: Buffer): void;
}
