// Turns the runs of one scenario into per-metric figures: median, min, max and noise.
import {
  CLEAN_RUN_METRICS,
  figureInfo,
  METRIC_KEYS,
  type MetricKey,
  type Runtime,
} from "../model/metrics.js";
import { largest, smallest } from "../model/numbers.js";
import type { MetricSummary } from "../model/report.js";
import { median } from "../model/stats.js";

export type Summary = Omit<MetricSummary, "status">;

type RunFigures = { figures: Partial<Record<MetricKey, number>>; error?: string; instrumented?: boolean };

/**
 * One summary per metric that at least one run measured; runs that failed are left out. For Python
 * and native programs, wall time, RSS and GC pause come from the clean runs alone (none when there
 * was no clean run or every clean run failed: never the probed run's), and the allocation rate is
 * the instrumented runs' allocated bytes over the clean runs' median wall time. Node's probe is
 * cheap and always on: its runs give every figure.
 */
export function summarise(runtime: Runtime, runs: RunFigures[]): Partial<Record<MetricKey, Summary>> {
  const good = runs.filter((r) => !r.error);
  // A run not marked instrumented had no allocation probe (a clean run, or a report's bare figures).
  const clean = good.filter((r) => r.instrumented !== true);
  const cleanOnly = runtime !== "node" || runs.some((r) => r.instrumented !== true);
  const out: Partial<Record<MetricKey, Summary>> = {};
  const cleanWall = valuesOf(clean, "wallTime");
  for (const metric of METRIC_KEYS) {
    let values: number[];
    if (cleanOnly && metric === "allocationRate") {
      const wall = cleanWall.length > 0 ? median(cleanWall) : 0;
      values = wall > 0 ? valuesOf(good, "allocated").map((bytes) => bytes / wall) : [];
    } else if (cleanOnly && CLEAN_RUN_METRICS.has(metric)) values = valuesOf(clean, metric);
    else values = valuesOf(good, metric);
    if (values.length === 0) continue;
    const info = figureInfo(runtime, metric);
    const value = median(values);
    const min = smallest(values);
    const max = largest(values);
    out[metric] = {
      value,
      min,
      max,
      spread: value === 0 ? 0 : (max - min) / value,
      runs: values.length,
      kind: info.kind,
      deterministic: info.deterministic,
    };
  }
  return out;
}

function valuesOf(runs: RunFigures[], metric: MetricKey): number[] {
  return runs.map((r) => r.figures[metric]).filter((v): v is number => typeof v === "number");
}
