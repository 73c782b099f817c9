// Which scenarios a job runs: the choices applied to a Plan as pure functions, and the split into
// shards (disjoint, complete, none empty, and the same wherever it is computed).
import { describe, expect, it } from "vitest";
import {
  costsOf,
  parseShard,
  select,
  splitScenarios,
  UnknownScenarioError,
} from "../../src/config/select.js";
import type { Plan, Scenario } from "../../src/config/types.js";
import { report } from "../helpers/reports.js";

const names = (n: number) => Array.from({ length: n }, (_, i) => `scenario-${String(i).padStart(3, "0")}`);

/** Pseudo-random but fixed names and costs: the properties must hold for any, not for a chosen few. */
function* cases(): Generator<{ names: string[]; total: number; costs?: Map<string, number> }> {
  let seed = 7;
  const next = () => {
    seed = (seed * 48271) % 2147483647;
    return seed / 2147483647;
  };
  for (let k = 0; k < 200; k++) {
    const count = 1 + Math.floor(next() * 60);
    const list = Array.from({ length: count }, (_, i) => `${next().toString(36).slice(2, 7)}-${i}`);
    const total = 1 + Math.floor(next() * 12);
    const costs =
      k % 2
        ? new Map(list.filter(() => next() > 0.3).map((n) => [n, Math.floor(next() * 100) / 10]))
        : undefined;
    yield { names: list, total, ...(costs ? { costs } : {}) };
  }
}

describe("splitScenarios", () => {
  it("is disjoint and complete, keeps the budget file's order, and leaves no shard empty when it can", () => {
    for (const c of cases()) {
      const split = splitScenarios(c.names, c.total, c.costs);
      expect(split).toHaveLength(c.total);
      const all = split.flat();
      expect(new Set(all).size).toBe(all.length);
      expect([...all].sort()).toEqual([...c.names].sort());
      for (const shard of split) {
        expect(shard).toEqual(c.names.filter((n) => shard.includes(n)));
        if (c.names.length >= c.total) expect(shard.length).toBeGreaterThan(0);
      }
    }
  });

  it("depends on the names alone: any order of the budget file gives each shard the same scenarios", () => {
    const list = names(23);
    const reversed = [...list].reverse();
    const a = splitScenarios(list, 4).map((s) => [...s].sort());
    const b = splitScenarios(reversed, 4).map((s) => [...s].sort());
    expect(b).toEqual(a);
    // Without costs the shards' sizes differ by at most one.
    const sizes = a.map((s) => s.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  });

  it("balanced by wall times, the longest shard is within one scenario of the ideal", () => {
    const list = names(40);
    // Costs from 1 s to 40 s: a name-based split would put scenario-039 (40 s) and 038 … together by chance only.
    const costs = new Map(list.map((n, i) => [n, i + 1]));
    const split = splitScenarios(list, 5, costs);
    const loads = split.map((s) => s.reduce((sum, n) => sum + costs.get(n)!, 0));
    const ideal = (40 * 41) / 2 / 5;
    const longest = Math.max(...loads);
    expect(longest).toBeGreaterThanOrEqual(ideal);
    expect(longest).toBeLessThanOrEqual(ideal + 40);
    const plain = splitScenarios(list, 5).map((s) => s.reduce((sum, n) => sum + costs.get(n)!, 0));
    expect(longest).toBeLessThanOrEqual(Math.max(...plain));
  });

  it("a scenario the balance report lacks weighs the median of the known ones", () => {
    const costs = new Map([
      ["a", 10],
      ["b", 1],
      ["c", 1],
    ]);
    // d weighs 1 (the median): a alone, then b, c and d spread over the light shard.
    expect(splitScenarios(["a", "b", "c", "d"], 2, costs)).toEqual([["a"], ["b", "c", "d"]]);
  });
});

describe("parseShard", () => {
  it("reads i/n and refuses what is not a shard, naming the fix", () => {
    expect(parseShard("2/4")).toEqual({ index: 2, total: 4 });
    expect(parseShard(" 1 / 1 ")).toEqual({ index: 1, total: 1 });
    expect(() => parseShard("5/4")).toThrow('--shard is "5/4": shard 5 of 4 does not exist; write i/n');
    expect(() => parseShard("0/4")).toThrow("shard 0 of 4 does not exist");
    expect(() => parseShard("two")).toThrow("it is not of the form i/n");
  });
});

describe("costsOf", () => {
  it("sums the wall times of a scenario's runs, as the job spent them", () => {
    const r = report([
      { name: "slow", runs: [{ wallTime: 2 }, { wallTime: 3 }] },
      { name: "fast", runs: [{ wallTime: 0.5 }] },
    ]);
    expect([...costsOf(r)]).toEqual([
      ["slow", 5],
      ["fast", 0.5],
    ]);
  });
});

describe("select", () => {
  const scenario = (name: string): Scenario => ({
    name,
    run: "true",
    runtime: "python",
    cwd: "/repo",
    env: {},
    timeout: 300,
    repeat: 3,
    tolerance: 0.02,
    sites: "auto",
    cleanRun: "auto",
    budget: {},
    source: { line: 1, budgetLines: {} },
  });
  const plan = (): Plan => ({ file: "/repo/membudget.json", scenarios: ["a", "b", "c", "d"].map(scenario) });

  it("without choices is the whole plan, nothing elsewhere", () => {
    const p = plan();
    expect(select(p)).toEqual({ plan: p, elsewhere: [] });
  });

  it("applies the overrides to a new plan and leaves the given one as it was", () => {
    const p = plan();
    const before = structuredClone(p);
    const { plan: chosen } = select(p, { repeat: 1, cleanRun: true });
    expect(chosen.scenarios.map((s) => [s.repeat, s.cleanRun])).toEqual(
      Array.from({ length: 4 }, () => [1, "always"]),
    );
    expect(p).toEqual(before);
    expect(() => select(p, { repeat: 0 })).toThrow("--repeat takes a whole number ≥ 1");
    expect(() => select(p, { repeat: 1.5 })).toThrow("--repeat takes a whole number ≥ 1");
  });

  it("keeps the budget file's order for `only` and refuses a name it does not have", () => {
    const p = plan();
    expect(select(p, { only: ["c", "a"] }).plan.scenarios.map((s) => s.name)).toEqual(["a", "c"]);
    expect(select(p, { only: [] }).plan.scenarios.map((s) => s.name)).toEqual(["a", "b", "c", "d"]);
    expect(() => select(p, { only: ["e"] })).toThrow(UnknownScenarioError);
    expect(() => select(p, { only: ["e"] })).toThrow(
      'no scenario named "e"; the budget file has: a, b, c, d',
    );
  });

  it("gives a shard its part of the selection, its identity, and the budget file's other scenarios", () => {
    const p = plan();
    const parts = [1, 2].map((index) =>
      select(p, {
        only: ["a", "b", "d"],
        shard: { index, total: 2 },
        balance: { costs: new Map([["a", 10]]), source: "last.json" },
      }),
    );
    // b and d weigh the median of the known costs, 10 s like a: a and b fill the two shards, d ties and goes to the first.
    expect(parts.map((x) => x.plan.scenarios.map((s) => s.name))).toEqual([["a", "d"], ["b"]]);
    expect(parts[0]!.shard).toEqual({
      index: 1,
      total: 2,
      selected: ["a", "b", "d"],
      assigned: [1, 2, 1],
      balance: "last.json",
    });
    expect(parts[1]!.shard?.assigned).toEqual(parts[0]!.shard?.assigned);
    // c is not selected: no shard measures it, and neither judges a base's figures for it.
    expect(parts.map((x) => x.elsewhere)).toEqual([
      ["b", "c"],
      ["a", "c", "d"],
    ]);
  });
});
