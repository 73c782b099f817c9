// Bounded timelines: the runner's RSS samples and the probes' heap points, thinned evenly.
import type { TimelinePoint } from "../model/report.js";

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
