// Which scenarios a job runs, and how: the user's choices (only, repeat, clean run, shard, balance)
// applied to a Plan, each a pure function returning a new Plan, so that every leg of a matrix, and
// the base side, gets the same selection from the same choices.
import { UsageError } from "../model/errors.js";
import type { Report, ShardInfo } from "../model/report.js";
import { median } from "../model/stats.js";
import { suggest } from "./problems.js";
import type { Plan } from "./types.js";

/** What the user chose (the CLI's flags, the Action's inputs). */
export interface Choices {
  /** Only these scenarios (by name); all when absent or empty. */
  only?: readonly string[];
  /** Every scenario's repeat count. */
  repeat?: number;
  /** Every Python or native scenario gets its clean run, as `"cleanRun": "always"`. */
  cleanRun?: boolean;
  /** Measure only this shard of the selected scenarios. */
  shard?: Shard;
  /** Split the shards by these costs (`costsOf` a report), named as the user named the report. */
  balance?: { costs: ReadonlyMap<string, number>; source: string };
}

/** The Plan a job runs: the selected scenarios of this shard, with the overrides applied. */
export interface Selection {
  plan: Plan;
  /** The shard's identity, for the report (absent without a shard). */
  shard?: ShardInfo;
  /**
   * The budget file's scenarios that other shards measure: a base's figures for them are not this
   * job's to judge (judged here, they would be called removed).
   */
  elsewhere: readonly string[];
}

/** Applies `choices` to `plan`: overrides, then `only`, then the shard. Throws UsageError on a bad choice. */
export function select(plan: Plan, choices: Choices = {}): Selection {
  const chosen = onlyScenarios(withOverrides(plan, choices), choices.only);
  if (!choices.shard) return { plan: chosen, elsewhere: [] };
  return shardOfPlan(plan, chosen, choices.shard, choices.balance);
}

/** Every scenario with the run-wide overrides (`--repeat`, `--clean-run`). */
export function withOverrides(plan: Plan, { repeat, cleanRun }: Pick<Choices, "repeat" | "cleanRun">): Plan {
  if (repeat !== undefined && (!Number.isInteger(repeat) || repeat < 1))
    throw new UsageError("--repeat takes a whole number ≥ 1");
  if (repeat === undefined && !cleanRun) return plan;
  return {
    ...plan,
    scenarios: plan.scenarios.map((s) => ({
      ...s,
      ...(repeat !== undefined ? { repeat } : {}),
      ...(cleanRun ? { cleanRun: "always" as const } : {}),
    })),
  };
}

/** The named scenarios, in the budget file's order; all when `only` is empty. */
export function onlyScenarios(plan: Plan, only: readonly string[] | undefined): Plan {
  if (!only || only.length === 0) return plan;
  const names = new Set(plan.scenarios.map((s) => s.name));
  const unknown = only.filter((n) => !names.has(n));
  if (unknown.length > 0) throw new UnknownScenarioError(unknown, [...names]);
  return { ...plan, scenarios: plan.scenarios.filter((s) => only.includes(s.name)) };
}

export class UnknownScenarioError extends UsageError {
  constructor(unknown: string[], known: string[]) {
    const named = unknown.map((n) => {
      // A name of a letter or two is close to every short name: no guess for it.
      const close = n.length >= 3 ? suggest(n, known) : undefined;
      return `${JSON.stringify(n)}${close ? ` (did you mean ${JSON.stringify(close)}?)` : ""}`;
    });
    super(`no scenario named ${named.join(", ")}; the budget file has: ${known.join(", ")}`);
    this.name = "UnknownScenarioError";
  }
}

/** Shard `index` of `chosen` (the selected scenarios of `whole`), with the shard's identity. */
function shardOfPlan(whole: Plan, chosen: Plan, shard: Shard, balance: Choices["balance"]): Selection {
  const { index, total } = shard;
  const names = chosen.scenarios.map((s) => s.name);
  const split = splitScenarios(names, total, balance?.costs);
  const mine = new Set(split[index - 1]);
  return {
    plan: { ...chosen, scenarios: chosen.scenarios.filter((s) => mine.has(s.name)) },
    shard: {
      index,
      total,
      selected: names,
      assigned: names.map((n) => split.findIndex((part) => part.includes(n)) + 1),
      ...(balance ? { balance: balance.source } : {}),
    },
    elsewhere: whole.scenarios.map((s) => s.name).filter((n) => !mine.has(n)),
  };
}

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
