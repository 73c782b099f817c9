// Why a run lacks a figure its runtime's probes normally give: from the probes' notes, the files
// they wrote (a probe that turned itself off says why there) and what the runner could read.
import {
  CLEAN_RUN_METRICS,
  LOAD_METRICS,
  type MetricKey,
  NO_CLEAN_RUN,
  type Runtime,
} from "../model/metrics.js";
import { SMAPS_ROLLUP } from "./process/tree-sampler.js";
import type { ProcessFigures } from "./types.js";

type Reasons = Partial<Record<MetricKey, string>>;

/** The figures the malloc interposer gives (peakHeap only for native programs: Python has tracemalloc). */
const TOTALS: readonly MetricKey[] = ["allocated", "allocations", "allocationRate"];

/** What probeEnv says when it could not load the interposer: "allocation totals unavailable: <why>". */
const TOTALS_NOTE = /^allocation totals unavailable: (.+)$/s;

const NODE_FIGURES: readonly MetricKey[] = [
  "peakHeap",
  "allocated",
  "allocationRate",
  "peakExternal",
  "gcPause",
  "gcCollections",
];

export interface RunEvidence {
  runtime: Runtime;
  /** Whether the run had the allocation probe (clean runs only time the workload and its memory). */
  instrumented: boolean;
  /** The notes of the probe's environment for this run (probeEnv, nodeProbeEnv). */
  probeNotes: readonly string[];
  /** The probed processes as mergeProcessFigures kept them. */
  processes: readonly ProcessFigures[];
  /** The run's figures so far (a reason is only given for a figure that is missing). */
  figures: Partial<Record<MetricKey, number>>;
  /** The scenario's only run is this probed one (one repeat, no budget needing a clean run). */
  withoutCleanRun?: boolean;
}

/** A reason for every figure of this run's probes that is missing from `figures`. */
export function unavailableOf(run: RunEvidence): Reasons {
  const reasons: Reasons = {};
  const say = (metrics: readonly MetricKey[], why: string | undefined) => {
    if (!why) return;
    for (const m of metrics) if (run.figures[m] === undefined && reasons[m] === undefined) reasons[m] = why;
  };
  if (run.figures.peakRss === undefined) {
    say(["peakRss"], "no RSS reading: rsswrap gave none and /proc could not be sampled (not Linux?)");
  }
  if (run.figures.peakPss === undefined) {
    say(
      ["peakPss"],
      SMAPS_ROLLUP
        ? "the workload ended before /proc/PID/smaps_rollup could be read"
        : "this kernel has no /proc/PID/smaps_rollup (Linux 4.14 or later)",
    );
  }
  if (!run.instrumented) return reasons;
  if (run.runtime === "node") {
    for (const p of run.processes) say(NODE_FIGURES, stringAt(p.extra, "unavailable"));
    return reasons;
  }
  const totals = run.runtime === "native" ? ["peakHeap", ...TOTALS] : TOTALS;
  for (const note of run.probeNotes) say(totals as MetricKey[], TOTALS_NOTE.exec(note)?.[1]);
  for (const p of run.processes) {
    // Python merges its pid's malloc file under extra.malloc; a native process is the malloc file.
    const malloc = run.runtime === "python" ? objectAt(p.extra, "malloc") : p.extra;
    say(totals as MetricKey[], stringAt(malloc, "unavailable"));
    if (run.runtime === "python" && p.figures.peakHeap === undefined) {
      say(["peakHeap"], tracemallocReason(stringAt(p.extra, "tracemalloc")));
    }
  }
  if (run.runtime === "python" && run.processes.length > 0) {
    say(
      TOTALS,
      "the allocation probe did not load into the Python processes (did the workload clear LD_PRELOAD, or is the interpreter linked statically?)",
    );
  }
  if (run.runtime === "native") {
    say(
      totals as MetricKey[],
      run.processes.length === 0
        ? "no process of the command allocated through the C library's malloc (a statically linked or Go program, or LD_PRELOAD cleared)"
        : undefined,
    );
  }
  if (run.figures.allocated === undefined && reasons.allocated) say(["allocationRate"], reasons.allocated);
  // Time and RSS exist only in clean runs; the rate keeps a missing `allocated`'s reason first.
  if (run.withoutCleanRun) {
    for (const m of CLEAN_RUN_METRICS) {
      if (LOAD_METRICS.includes(m)) continue;
      reasons[m] = m === "allocationRate" ? (reasons.allocationRate ?? NO_CLEAN_RUN) : NO_CLEAN_RUN;
    }
  }
  return reasons;
}

function tracemallocReason(said: string | undefined): string {
  return said
    ? `tracemalloc ${said}`
    : "the Python probe measured no heap (neither the allocation probe nor tracemalloc ran)";
}

function objectAt(
  extra: Record<string, unknown> | undefined,
  key: string,
): Record<string, unknown> | undefined {
  const value = extra?.[key];
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
}

function stringAt(extra: Record<string, unknown> | undefined, key: string): string | undefined {
  const value = extra?.[key];
  return typeof value === "string" && value.trim() !== "" ? value : undefined;
}
