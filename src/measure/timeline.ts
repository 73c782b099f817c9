// Bounded timelines: the runner's RSS samples and the probes' heap points, thinned evenly.
import type { TimelinePoint } from "../model/report.js";
import type { ProcessFigures } from "./types.js";

/** Points a timeline keeps at most (the runner's RSS timeline has the same bound). */
export const TIMELINE_LIMIT = 200;

/** At most `max` points, one per equal slice of time, each the slice's highest RSS and heap. */
export function downsample(points: TimelinePoint[], max: number): TimelinePoint[] {
  if (points.length <= max) return points;
  const first = points[0]!.t;
  const span = points[points.length - 1]!.t - first || 1;
  const out: TimelinePoint[] = [];
  let bucket = -1;
  for (const point of points) {
    const b = Math.min(max - 1, Math.floor(((point.t - first) / span) * max));
    if (b !== bucket) {
      out.push({ ...point });
      bucket = b;
      continue;
    }
    const kept = out[out.length - 1]!;
    if (point.rss > kept.rss) {
      kept.rss = point.rss;
      kept.t = point.t;
    }
    if (point.heap !== undefined && point.heap > (kept.heap ?? -1)) kept.heap = point.heap;
  }
  return out;
}

/** A heap point on the run's clock: seconds since the run started. */
export interface HeapPoint {
  t: number;
  heap: number;
}

/**
 * The heap timeline of one run, from the probe files (`extra.heapTimeline`: [epoch seconds,
 * bytes] pairs): the one of the process whose heap went highest, on the clock of a run that
 * started at `startedAtMs` (epoch milliseconds).
 */
export function heapTimelineOfRun(processes: ProcessFigures[], startedAtMs: number): HeapPoint[] {
  let best: [number, number][] | undefined;
  let bestHigh = -1;
  for (const file of processes) {
    const raw = file.extra?.["heapTimeline"];
    if (!Array.isArray(raw) || raw.length === 0) continue;
    const points = raw.filter(
      (p): p is [number, number] =>
        Array.isArray(p) && Number.isFinite(p[0]) && Number.isFinite(p[1]) && (p[1] as number) >= 0,
    );
    const high = Math.max(0, ...points.map((p) => p[1]));
    if (high > bestHigh) {
      bestHigh = high;
      best = points;
    }
  }
  return (best ?? [])
    .map(([epoch, heap]) => ({ t: Math.max(0, epoch - startedAtMs / 1000), heap }))
    .sort((a, b) => a.t - b.t);
}

/**
 * Puts heap points on an RSS timeline: each on the RSS sample nearest in time when one is within
 * `near` seconds (the larger heap wins), otherwise as a point of its own whose RSS is interpolated
 * between its neighbours. Then at most `max` points, one per equal slice of time, each slice keeping
 * its highest RSS and highest heap, so that peaks survive. Both come from one run, on one clock.
 */
export function mergeHeapTimeline(
  rss: TimelinePoint[],
  heap: HeapPoint[],
  options: { near?: number; max?: number } = {},
): TimelinePoint[] {
  const near = options.near ?? 0.015;
  const max = options.max ?? TIMELINE_LIMIT;
  const points: TimelinePoint[] = rss.map((p) => ({
    t: p.t,
    rss: p.rss,
    ...(p.heap !== undefined ? { heap: p.heap } : {}),
  }));
  if (points.length === 0) {
    // No RSS samples (not Linux): the heap alone, with RSS unknown as 0.
    return downsample(
      heap.map((h) => ({ t: h.t, rss: 0, heap: h.heap })),
      max,
    );
  }
  const added: TimelinePoint[] = [];
  for (const h of heap) {
    const t = h.t;
    const i = nearestIndex(points, t);
    const at = points[i]!;
    if (Math.abs(at.t - t) <= near) {
      at.heap = Math.max(at.heap ?? 0, h.heap);
    } else {
      added.push({ t, rss: rssAt(points, t), heap: h.heap });
    }
  }
  const merged = [...points, ...added].sort((a, b) => a.t - b.t);
  return downsample(merged, max);
}

function nearestIndex(points: TimelinePoint[], t: number): number {
  let lo = 0;
  let hi = points.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (points[mid]!.t < t) lo = mid + 1;
    else hi = mid;
  }
  if (lo > 0 && Math.abs(points[lo - 1]!.t - t) <= Math.abs(points[lo]!.t - t)) return lo - 1;
  return lo;
}

function rssAt(points: TimelinePoint[], t: number): number {
  const first = points[0]!;
  const last = points[points.length - 1]!;
  if (t <= first.t) return first.rss;
  if (t >= last.t) return last.rss;
  const i = nearestIndex(points, t);
  const a = points[i]!.t <= t ? points[i]! : points[i - 1]!;
  const b = points[i]!.t <= t ? points[i + 1]! : points[i]!;
  const span = b.t - a.t;
  return span > 0 ? Math.round(a.rss + ((b.rss - a.rss) * (t - a.t)) / span) : a.rss;
}
