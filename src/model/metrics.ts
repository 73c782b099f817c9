// The metric table (docs/architecture.md): names, units, and how far each runtime's figure can be
// trusted. The one definition that the schema, the judge, the renderers and the docs follow.

export const METRIC_KEYS = [
  "peakHeap",
  "allocated",
  "allocations",
  "allocationRate",
  "peakRss",
  "peakPss",
  "peakExternal",
  "gcPause",
  "gcCollections",
  "wallTime",
  "retainedPerRequest",
  "p50Latency",
  "p99Latency",
  "throughput",
] as const;

export type MetricKey = (typeof METRIC_KEYS)[number];

/**
 * The metrics a budget may name: all but throughput, where more is better and a ceiling would
 * mean nothing (it is reported beside the latencies and GC pauses).
 */
export const BUDGET_KEYS: readonly MetricKey[] = METRIC_KEYS.filter((k) => k !== "throughput");

/** The metrics only a load scenario (a service driven in rounds, docs/load.md) has. */
export const LOAD_METRICS: readonly MetricKey[] = [
  "retainedPerRequest",
  "p50Latency",
  "p99Latency",
  "throughput",
];

/**
 * The figures the allocation probe (Python and native programs) distorts, through its per-block
 * header (RSS) and its cost per call (time): taken only from clean runs, never from the probed one.
 * allocationRate is the probed run's exact `allocated` over a clean run's wall time.
 */
export const CLEAN_RUN_METRICS: ReadonlySet<MetricKey> = new Set<MetricKey>([
  "wallTime",
  "peakRss",
  "peakPss",
  "gcPause",
  "allocationRate",
  "p50Latency",
  "p99Latency",
  "throughput",
]);

/**
 * Why a one-repeat scenario without its clean run has none of CLEAN_RUN_METRICS: by design (no
 * budget asked for them), not a probe's failure, so tables list it only when asked for every row.
 */
export const NO_CLEAN_RUN =
  'taken only from a clean run; with one repeat, that runs when a budget needs it (budget it, set "cleanRun": "always", or repeat 2 or more)';

import type { Unit } from "./units.js";

export type { Unit } from "./units.js";

/** Which probe a scenario is measured with. */
export type Runtime = "python" | "node" | "native";

export interface MetricInfo {
  unit: Unit;
  label: string;
  description: string;
}

export const METRICS: Record<MetricKey, MetricInfo> = {
  peakHeap: {
    unit: "bytes",
    label: "peak heap",
    description: "most bytes live on the language heap at once",
  },
  allocated: { unit: "bytes", label: "allocated", description: "total bytes requested over the run" },
  allocations: { unit: "count", label: "allocations", description: "number of allocation calls" },
  allocationRate: {
    unit: "bytesPerSecond",
    label: "allocation rate",
    description: "allocated ÷ the workload's wall time",
  },
  peakRss: {
    unit: "bytes",
    label: "peak RSS",
    description: "largest resident set of any single process of the tree (exact)",
  },
  peakPss: {
    unit: "bytes",
    label: "peak PSS (tree)",
    description:
      "most memory of the whole process tree at once, a shared page counted once (summed PSS, sampled)",
  },
  peakExternal: {
    unit: "bytes",
    label: "peak external",
    description: "Node.js: most bytes held outside the V8 heap (Buffers, ArrayBuffers)",
  },
  gcPause: { unit: "seconds", label: "GC pause", description: "total time spent in garbage collection" },
  gcCollections: { unit: "count", label: "GC collections", description: "number of garbage collections" },
  wallTime: { unit: "seconds", label: "wall time", description: "the workload's wall-clock time" },
  retainedPerRequest: {
    unit: "bytes",
    label: "retained per request",
    description:
      "load scenarios: the slope of the heap left after a full collection against requests served, over the rounds after warm-up (Theil–Sen)",
  },
  p50Latency: {
    unit: "seconds",
    label: "p50 latency",
    description: "load scenarios: median request latency",
  },
  p99Latency: {
    unit: "seconds",
    label: "p99 latency",
    description: "load scenarios: 99th percentile of request latency",
  },
  throughput: {
    unit: "perSecond",
    label: "throughput",
    description: "load scenarios: requests answered per second while the driver ran",
  },
};

/** How far a figure can be trusted: exact counts, derived estimates, or sampled values. */
export type FigureKind = "exact" | "derived" | "sampled";

export interface FigureInfo {
  kind: FigureKind;
  /** True when the figure is the same on every run of a deterministic program (counts, traced peaks). */
  deterministic: boolean;
  /** How the probe arrives at it, in a phrase (for the docs and `--help`). */
  how?: string;
}

/** What each probe's figures are. A metric a runtime lacks here is exact and noisy (wall time, RSS). */
export const FIGURES: Record<Runtime, Partial<Record<MetricKey, FigureInfo>>> = {
  python: {
    peakHeap: { kind: "exact", deterministic: true },
    allocated: { kind: "exact", deterministic: true },
    allocations: { kind: "exact", deterministic: true },
    gcCollections: { kind: "exact", deterministic: true },
    retainedPerRequest: {
      kind: "derived",
      deterministic: false,
      how: "Theil–Sen slope of live heap bytes after gc.collect() at each round's end (the interposer's live bytes, or tracemalloc's traced memory) against requests served",
    },
  },
  node: {
    peakHeap: {
      kind: "sampled",
      deterministic: false,
      how: "largest V8 used heap, read before every GC and at exit (it only grows between GCs); includes garbage not yet collected",
    },
    allocated: {
      kind: "derived",
      deterministic: false,
      how: "sum over GCs of the used heap before it minus the used heap after the previous one, plus what is left at exit",
    },
    peakExternal: {
      kind: "sampled",
      deterministic: false,
      how: "largest V8 external memory (Buffers, ArrayBuffers, bound C++ objects) at GC points and at exit",
    },
    gcCollections: {
      kind: "exact",
      deterministic: false,
      how: "scavenges and full collections reported by V8 (incremental-marking steps are not counted)",
    },
    gcPause: {
      kind: "exact",
      deterministic: false,
      how: "V8's main-thread time per GC, summed; varies widely between runs: report it, do not gate on it",
    },
    retainedPerRequest: {
      kind: "derived",
      deterministic: false,
      how: "Theil–Sen slope of V8's used heap after a forced full GC at each round's end against requests served",
    },
  },
  native: {
    peakHeap: { kind: "exact", deterministic: true },
    allocated: { kind: "exact", deterministic: true },
    allocations: { kind: "exact", deterministic: true },
  },
};

/** Figures measured the same way whatever the runtime (by the runner, not by a probe). */
const RUNNER_FIGURES: Partial<Record<MetricKey, FigureInfo>> = {
  allocationRate: { kind: "derived", deterministic: false },
  retainedPerRequest: { kind: "derived", deterministic: false },
  peakPss: {
    kind: "sampled",
    deterministic: false,
    how: "largest sum over the tree of each process's PSS (/proc/PID/smaps_rollup), sampled; a page shared by n processes counts 1/n in each",
  },
};

export function figureInfo(runtime: Runtime, metric: MetricKey): FigureInfo {
  return FIGURES[runtime][metric] ?? RUNNER_FIGURES[metric] ?? { kind: "exact", deterministic: false };
}

/** Metrics a runtime's probes cannot give at all, with why (shown as unavailable, never as 0). */
export const NEVER_MEASURED: Record<Runtime, Partial<Record<MetricKey, string>>> = {
  python: { peakExternal: "only Node.js has an external heap" },
  node: { allocations: "V8 does not count allocations" },
  native: {
    gcPause: "native programs have no GC probe",
    gcCollections: "native programs have no GC probe",
    peakExternal: "only Node.js has an external heap",
    retainedPerRequest: "native programs have no probe that can trigger a full collection",
  },
};
