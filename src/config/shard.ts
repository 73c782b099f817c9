// Which scenarios shard i of n measures: a pure function of the scenario names (and, optionally, of
// an earlier report's wall times), so every leg of a matrix, and the base side, gets the same split.
import { UsageError } from "../model/errors.js";
import type { Report } from "../model/report.js";

/** Shard `index` of `total`, both counted from 1. */
export interface Shard {
  index: number;
  total: number;
}

/** Reads "i/n" (`--shard 2/4`, the Action's `shard: ${{ matrix.shard }}/4`). */
export function parseShard(text: string, what = "--shard"): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  const index = m ? Number(m[1]) : Number.NaN;
  const total = m ? Number(m[2]) : Number.NaN;
  if (!m || total < 1 || index < 1 || index > total) {
    const why = m ? `shard ${index} of ${total} does not exist` : "it is not of the form i/n";
    throw new UsageError(
      `${what} is "${text}": ${why}; write i/n with 1 ≤ i ≤ n, e.g. 1/4 for the first of four shards`,
    );
  }
  return { index, total };
}

/**
 * What each scenario costs to measure, in seconds, from a report made earlier (`--balance`): the
 * sum of its runs' wall times (the clean and the instrumented ones alike, as the job spends them).
 */
export function costsOf(report: Report): Map<string, number> {
  const costs = new Map<string, number>();
  for (const s of report.scenarios) {
    if (s.status === "removed") continue;
    const times = s.runs.map((r) => r.figures.wallTime).filter((t): t is number => typeof t === "number");
    const wall = s.metrics.wallTime?.value;
    const cost =
      times.length > 0
        ? times.reduce((a, b) => a + b, 0)
        : wall !== undefined
          ? wall * Math.max(1, s.runs.length)
          : undefined;
    if (cost !== undefined && Number.isFinite(cost) && cost >= 0) costs.set(s.name, cost);
  }
  return costs;
}

/**
 * The names of every shard, shard 1 first, each in the order of `names`. Disjoint, complete, and
 * none empty when there are at least `total` names. Without costs every scenario weighs the same
 * and the split is round-robin over the names in code-point order; with costs, the heaviest
 * scenario goes first to the lightest shard (LPT), a scenario the costs lack weighing the median of
 * the known ones. Ties go to the shard with fewer scenarios, then the lower number, so the result
 * depends on nothing but the names and the costs.
 */
export function splitScenarios(
  names: readonly string[],
  total: number,
  costs?: ReadonlyMap<string, number>,
): string[][] {
  const known = names.map((n) => costs?.get(n)).filter((c): c is number => c !== undefined);
  const stand = known.length > 0 ? median(known) : 1;
  const items = names.map((name) => ({ name, cost: costs?.get(name) ?? stand }));
  items.sort((a, b) => b.cost - a.cost || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const load = new Array<number>(total).fill(0);
  const count = new Array<number>(total).fill(0);
  const shardOf = new Map<string, number>();
  for (const item of items) {
    let best = 0;
    for (let i = 1; i < total; i++) {
      if (load[i]! < load[best]! || (load[i] === load[best] && count[i]! < count[best]!)) best = i;
    }
    load[best]! += item.cost;
    count[best]!++;
    shardOf.set(item.name, best);
  }
  const split: string[][] = Array.from({ length: total }, () => []);
  for (const name of names) split[shardOf.get(name)!]!.push(name);
  return split;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
