// Load scenarios (docs/load.md), pure: the retained heap's slope against requests (Theil–Sen) and
// the leak rule — a leak only when the heap grew in every round after warm-up (CPython's `-R`
// rule) and the slope is above a small floor.
import type { LoadRound, LoadSummary } from "../model/report.js";
import { median } from "../model/stats.js";
import { formatSize } from "../model/units.js";

/**
 * Bytes per request below which a slope is never a leak: an interpreter's own bookkeeping (a
 * dict resized, a cache of compiled regexes filling) can creep up steadily for a while without
 * anything being kept per request.
 */
export const LEAK_FLOOR = 16;

/**
 * The Theil–Sen slope: the median of the slopes between every pair of points with distinct x.
 * One wild round (a GC that freed late, a lazy import) moves it far less than least squares.
 * Undefined with fewer than two distinct x.
 */
export function theilSen(points: readonly { x: number; y: number }[]): number | undefined {
  const slopes: number[] = [];
  for (let i = 0; i < points.length; i++) {
    for (let j = i + 1; j < points.length; j++) {
      const a = points[i]!;
      const b = points[j]!;
      if (b.x !== a.x) slopes.push((b.y - a.y) / (b.x - a.x));
    }
  }
  return slopes.length > 0 ? median(slopes) : undefined;
}

export interface RoundsVerdict {
  /** Bytes retained per request after warm-up; undefined when the rounds give no slope. */
  slope?: number;
  /** The retained heap rose from each round to the next after warm-up. */
  grewEveryRound: boolean;
  leak: boolean;
  why: string;
}

/** The rounds after `warmup` that carry a retained figure (the last warm-up round is the start). */
function measured(rounds: readonly LoadRound[], warmup: number): { x: number; y: number }[] {
  return rounds
    .filter((r) => r.round >= warmup && r.retained !== undefined)
    .map((r) => ({ x: r.requests, y: r.retained! }));
}

/**
 * One run's rounds judged by the leak rule: every round after warm-up kept more than `floor`
 * bytes per request it served, and so did the slope. The end of the last warm-up round is the first point
 * (round `warmup`; with no warm-up, the first round), so that "grew in every round after warm-up"
 * compares each measured round with the one before it.
 */
export function judgeRounds(rounds: readonly LoadRound[], warmup: number, floor = LEAK_FLOOR): RoundsVerdict {
  const points = measured(rounds, Math.max(1, warmup));
  const slope = theilSen(points);
  if (slope === undefined) {
    return {
      grewEveryRound: false,
      leak: false,
      why: "too few rounds with a retained figure to fit a slope",
    };
  }
  // "Grew" means by more than the floor for the round's requests: a few hundred bytes of an
  // interpreter's own bookkeeping in each of a handful of rounds is not a leak.
  const grewEveryRound = points.every(
    (p, i) => i === 0 || p.y - points[i - 1]!.y > floor * (p.x - points[i - 1]!.x),
  );
  const leak = grewEveryRound && slope > floor;
  const per = `${formatSize(slope)} per request`;
  const why = leak
    ? `the retained heap grew in every round after warm-up, ${per}`
    : !grewEveryRound
      ? `not a leak: the retained heap did not grow in every round after warm-up (${per})`
      : `not a leak: ${per}, under the ${formatSize(floor)} floor`;
  return { slope, grewEveryRound, leak, why };
}

export interface LoadRun {
  index: number;
  error?: string;
  rounds?: LoadRound[];
}

/**
 * The scenario's load summary from its runs: the leak rule must hold in more than half of the
 * runs that fitted a slope, so that one odd run neither raises nor hides a leak. The rounds shown
 * are the first good run's that has retained figures (or the first run's, when none has).
 */
export function loadSummaryOf(
  runs: readonly LoadRun[],
  plan: Pick<LoadSummary, "driver" | "requests" | "rounds" | "warmup"> & { concurrency?: number },
  floor = LEAK_FLOOR,
): LoadSummary | undefined {
  const good = runs.filter((r) => !r.error && r.rounds && r.rounds.length > 0);
  const shown =
    good.find((r) => r.rounds!.some((x) => x.retained !== undefined)) ??
    good[0] ??
    runs.find((r) => r.rounds);
  if (!shown?.rounds) return undefined;
  const verdicts = good
    .map((r) => judgeRounds(r.rounds!, plan.warmup, floor))
    .filter((v) => v.slope !== undefined);
  const leaks = verdicts.filter((v) => v.leak).length;
  const leak = verdicts.length > 0 && leaks * 2 > verdicts.length;
  const own = judgeRounds(shown.rounds, plan.warmup, floor);
  const why =
    verdicts.length <= 1
      ? own.why
      : `${leak ? "a leak" : "not a leak"} in ${leak ? leaks : verdicts.length - leaks} of ${verdicts.length} runs; run ${shown.index}: ${own.why}`;
  return { ...plan, perRound: shown.rounds, run: shown.index, leak, floor, why };
}
