// The metric table of DESIGN.md, in one place: names, units, and how each is combined.

export const METRIC_KEYS = [
  "peakHeap",
  "allocated",
  "allocations",
  "allocationRate",
  "peakRss",
  "peakExternal",
  "gcPause",
  "gcCollections",
  "wallTime",
] as const;

export type MetricKey = (typeof METRIC_KEYS)[number];

/** The metrics a budget may name (every metric is budgetable). */
export const BUDGET_KEYS: readonly MetricKey[] = METRIC_KEYS;

export type Unit = "bytes" | "count" | "bytesPerSecond" | "seconds";

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
  peakRss: { unit: "bytes", label: "peak RSS", description: "largest resident set of the process tree" },
  peakExternal: {
    unit: "bytes",
    label: "peak external",
    description: "Node.js: most bytes held outside the V8 heap (Buffers, ArrayBuffers)",
  },
  gcPause: { unit: "seconds", label: "GC pause", description: "total time spent in garbage collection" },
  gcCollections: { unit: "count", label: "GC collections", description: "number of garbage collections" },
  wallTime: { unit: "seconds", label: "wall time", description: "the workload's wall-clock time" },
};
