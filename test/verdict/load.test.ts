// The retained-heap slope and the leak rule (src/verdict/load.ts), and how the judge applies them.
import { describe, expect, it } from "vitest";
import type { LoadRound } from "../../src/model/report.js";
import { judge } from "../../src/verdict/judge.js";
import { judgeRounds, LEAK_FLOOR, loadSummaryOf, theilSen } from "../../src/verdict/load.js";
import { scenario } from "../helpers/reports.js";

/** Rounds of `per` requests whose retained heap is start + perRequest × requests + noise(round). */
function rounds(
  n: number,
  per: number,
  perRequest: number,
  noise: (r: number) => number = () => 0,
): LoadRound[] {
  return Array.from({ length: n }, (_, i) => ({
    round: i + 1,
    requests: (i + 1) * per,
    retained: 5_000_000 + perRequest * (i + 1) * per + noise(i + 1),
    errors: 0,
    seconds: 1,
  }));
}

describe("Theil–Sen", () => {
  it("finds the slope of a line exactly", () => {
    const points = [0, 1, 2, 3, 4].map((x) => ({ x: x * 100, y: 7 + 1065 * x * 100 }));
    expect(theilSen(points)).toBe(1065);
  });

  it("is not moved far by one wild point, where least squares would be", () => {
    const points = [0, 1, 2, 3, 4, 5, 6].map((x) => ({ x, y: 10 * x + (x === 3 ? 500 : 0) }));
    expect(theilSen(points)).toBe(10);
  });

  it("has no slope without two distinct x", () => {
    expect(theilSen([{ x: 1, y: 1 }])).toBeUndefined();
    expect(
      theilSen([
        { x: 1, y: 1 },
        { x: 1, y: 9 },
      ]),
    ).toBeUndefined();
  });
});

describe("the leak rule", () => {
  it("is a leak when the heap grew in every round after warm-up and the slope is over the floor", () => {
    const v = judgeRounds(rounds(10, 100, 1065), 2);
    expect(v.slope).toBeCloseTo(1065, 6);
    expect(v).toMatchObject({ grewEveryRound: true, leak: true });
  });

  it("is not a leak when one round after warm-up did not grow, however steep the slope", () => {
    const v = judgeRounds(
      rounds(10, 100, 1065, (r) => (r === 6 ? -200_000 : 0)),
      2,
    );
    expect(v.slope).toBeGreaterThan(1000);
    expect(v.leak).toBe(false);
    expect(v.why).toMatch(/did not grow in every round/);
  });

  it("leaves warm-up rounds out: a cache filling in the first rounds is no leak", () => {
    // 100 entries of 1 KiB fill during the first two rounds of 60 requests, then it stays put.
    const cache = rounds(10, 60, 0).map((r) => ({
      ...r,
      retained: r.retained! + Math.min(r.requests, 100) * 1065,
    }));
    expect(judgeRounds(cache, 2).leak).toBe(false);
    expect(judgeRounds(cache, 2).slope).toBe(0);
  });

  it("is not a leak when the heap crept up every round by less than the floor per request", () => {
    const v = judgeRounds(rounds(10, 100, LEAK_FLOOR / 2), 2);
    expect(v).toMatchObject({ grewEveryRound: false, leak: false });
    expect(v.slope).toBeCloseTo(LEAK_FLOOR / 2, 6);
  });

  it("takes the majority of the runs, and shows the first good run's rounds", () => {
    const leaking = rounds(8, 100, 1065);
    const flat = rounds(8, 100, 1065, (r) => (r === 5 ? -500_000 : 0));
    const plan = { driver: "http" as const, requests: 800, rounds: 8, warmup: 2 };
    const two = loadSummaryOf(
      [
        { index: 1, rounds: leaking },
        { index: 2, rounds: leaking },
        { index: 3, rounds: flat },
      ],
      plan,
    );
    expect(two).toMatchObject({ leak: true, run: 1, perRound: leaking });
    expect(two?.why).toMatch(/^a leak in 2 of 3 runs/);
    const one = loadSummaryOf(
      [
        { index: 1, error: "crashed" },
        { index: 2, rounds: flat },
        { index: 3, rounds: leaking },
      ],
      plan,
    );
    expect(one).toMatchObject({ leak: false, run: 2 });
  });
});

describe("judging retainedPerRequest", () => {
  const judged = (leak: boolean) => {
    const s = scenario({
      name: "api",
      runs: [{ retainedPerRequest: 1065 }],
      budget: { retainedPerRequest: 64 },
    });
    s.load = {
      driver: "http",
      requests: 800,
      rounds: 8,
      warmup: 2,
      perRound: [],
      run: 1,
      leak,
      floor: 16,
      why: "",
    };
    return judge({ ...reportOf(s) }).scenarios[0]!;
  };

  it("is over its budget when it leaks", () => {
    const s = judged(true);
    expect(s.status).toBe("over");
    expect(s.metrics.retainedPerRequest?.reason).toBe(
      "retained per request 1.0 KiB is over its budget of 64 B",
    );
  });

  it("passes, saying why, when the slope is over the budget but the heap did not grow every round", () => {
    const s = judged(false);
    expect(s.status).toBe("pass");
    expect(s.metrics.retainedPerRequest?.reason).toMatch(/not a leak$/);
  });
});

function reportOf(s: ReturnType<typeof scenario>) {
  return {
    version: 1 as const,
    tool: { name: "membudget" as const, version: "0" },
    createdAt: "2026-12-01T00:00:00Z",
    budgetFile: "membudget.json",
    environment: { os: "linux", arch: "x64", cpus: 2, memory: 1, node: "20" },
    status: "pass" as const,
    summary: "",
    scenarios: [s],
  };
}
