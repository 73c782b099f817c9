// Plain data that flows out of the measure stage: one Run per execution of a scenario.
import type { MetricKey } from "../model/metrics.js";
import type { LoadRound, RunRecord } from "../model/report.js";
import type { TestRun } from "./pytest-probe.js";

/** Figures written by one probed process (one file per pid, or pid+thread for Node workers). */
export interface ProcessFigures {
  /** Which probe wrote it: "python" (sitecustomize), "malloc" (the LD_PRELOAD interposer), "node". */
  probe: "python" | "malloc" | "node";
  pid: number;
  ppid?: number;
  /** Node worker thread id (0 for the main thread). */
  threadId?: number;
  /** argv of the process, as far as the probe knows it, for error messages. */
  argv?: string[];
  /** How the figures were written: normal exit, an os._exit/process.exit hook, or a signal handler. */
  exit?: "normal" | "_exit" | "signal" | "exec";
  figures: Partial<Record<MetricKey, number>>;
  /** Optional attachments (top sites, heap timeline), probe-specific. */
  extra?: Record<string, unknown>;
}

/**
 * Outcome of one execution of a scenario's command: what its report record keeps (index, exit
 * code, signal, timeout, error, whole-tree figures combined as docs/architecture.md says), plus
 * what the measure stage knows and the report does not keep whole.
 */
export interface Run
  extends Pick<RunRecord, "index" | "exitCode" | "signal" | "timedOut" | "error" | "figures"> {
  processes: ProcessFigures[];
  /** Last bytes of stdout/stderr (bounded), for error messages. */
  stdoutTail: string;
  stderrTail: string;
  /** Bytes the workload printed in all, per stream (the tails are bounded; this is not). */
  stdoutBytes: number;
  stderrBytes: number;
  /** Why metrics this run's probes normally give are missing (a probe that could not run here). */
  unavailable?: Partial<Record<MetricKey, string>>;
  /** False for a clean run (no allocation probe), which times the workload and its RSS undisturbed. */
  instrumented?: boolean;
  /** pytest runs: every test's figures and outcome, from the plugin's files. */
  tests?: TestRun;
  /** Load scenarios: the figures at the end of each round. */
  rounds?: LoadRound[];
}
