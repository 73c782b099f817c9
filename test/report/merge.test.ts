// Reports of separate jobs merged into one: every scenario once, the totals computed anew.
import { describe, expect, it } from "vitest";
import { splitScenarios } from "../../src/config/select.js";
import type { TestReport } from "../../src/model/pytest.js";
import type { Report } from "../../src/model/report.js";
import { mergeReports } from "../../src/report/merge.js";
import { judge } from "../../src/verdict/judge.js";
import { MiB, report } from "../helpers/reports.js";

const files = (...reports: Report[]) => reports.map((r, i) => ({ file: `r${i + 1}.json`, report: r }));

describe("mergeReports", () => {
  it("keeps each scenario's own verdict, and recomputes the status and the sentence over all", () => {
    const one = report([{ name: "a", runs: [{ peakHeap: 10 * MiB }], budget: { peakHeap: 16 * MiB } }]);
    const two = report(
      [{ name: "b", runs: [{ peakHeap: 20 * MiB }], budget: { peakHeap: 16 * MiB } }],
      undefined,
      { notes: ["same note"] },
    );
    const three = report([{ name: "c", runs: [{ peakHeap: 1 * MiB }] }], undefined, { notes: ["same note"] });
    const merged = mergeReports(files(one, two, three));
    expect(merged.scenarios.map((s) => [s.name, s.status])).toEqual([
      ["a", "pass"],
      ["b", "over"],
      ["c", "pass"],
    ]);
    expect(merged.status).toBe("over");
    expect(merged.summary).toBe("1 of 3 scenarios over budget");
    expect(merged.notes).toEqual(["same note"]);
  });

  it("refuses two reports that name the same scenario, naming both files (no later-file-wins)", () => {
    const early = report([{ name: "a", runs: [{ peakHeap: 20 * MiB }], budget: { peakHeap: 16 * MiB } }]);
    const late = report([{ name: "a", runs: [{ peakHeap: 10 * MiB }], budget: { peakHeap: 16 * MiB } }]);
    expect(() => mergeReports(files(early, late))).toThrow(
      /^the scenario "a" is in both r1\.json and r2\.json: merge reports of separate scenarios/,
    );
  });

  it("refuses reports of other commits or budget files: a stale report cannot hide a newer one", () => {
    const head = report([{ name: "a", runs: [{ peakHeap: 20 * MiB }] }], undefined, {
      commit: "1".repeat(40),
    });
    const stale = report([{ name: "b", runs: [{ peakHeap: 1 }] }], undefined, { commit: "2".repeat(40) });
    expect(() => mergeReports(files(head, stale))).toThrow(
      `r2.json and r1.json are not of one run: the head commits differ (${"2".repeat(40)} and ${"1".repeat(40)})`,
    );
    const other = report([{ name: "b", runs: [{ peakHeap: 1 }] }], undefined, {
      commit: "1".repeat(40),
      budgetDigest: `sha256:${"cd".repeat(32)}`,
    });
    const own = { ...head, budgetDigest: `sha256:${"ab".repeat(32)}` };
    expect(() => mergeReports(files(own, other))).toThrow("the budget files' digests differ");
  });

  it("keeps the error of a merged report merged again (a lost shard never turns green)", () => {
    const lost = report([{ name: "a", runs: [{ peakHeap: MiB }] }], undefined, {
      error: "shard 2 of 2: no report",
      status: "error",
    });
    const again = mergeReports(files(lost));
    expect(again.error).toBe("shard 2 of 2: no report");
    expect(again.status).toBe("error");
    expect(again.summary).toMatch(/^Shard 2 of 2: no report; /);
    const more = report([{ name: "b", runs: [{ peakHeap: MiB }] }]);
    expect(mergeReports(files(more, lost)).error).toBe("shard 2 of 2: no report");
  });

  it("refuses to merge nothing", () => {
    expect(() => mergeReports([])).toThrow("nothing to merge");
  });
});

describe("mergeReports of shards", () => {
  const NAMES = ["a", "b", "c", "d", "e", "f", "g"];
  const split = splitScenarios(NAMES, 3);
  const DIGEST = `sha256:${"ab".repeat(32)}`;
  /** Shard i of 3 as `run --shard i/3` writes it: its own scenarios, the whole split, digest and commit. */
  const shard = (index: number, extra: Partial<Report> = {}) =>
    report(
      split[index - 1]!.map((name) => ({
        name,
        runs: [{ peakHeap: (name === "e" ? 20 : 10) * MiB }],
        budget: { peakHeap: 16 * MiB },
      })),
      undefined,
      {
        commit: "1".repeat(40),
        budgetDigest: DIGEST,
        shard: {
          index,
          total: 3,
          selected: NAMES,
          assigned: NAMES.map((n) => split.findIndex((s) => s.includes(n)) + 1),
        },
        ...extra,
      },
    );
  const shardFiles = (...reports: Report[]) =>
    reports.map((r) => ({ file: `shard-${r.shard!.index}.json`, report: r }));

  it("all three: the seven scenarios in the budget file's order, judged over all, no shard identity left", () => {
    const merged = mergeReports(shardFiles(shard(3), shard(1), shard(2)));
    expect(merged.scenarios.map((s) => s.name)).toEqual(NAMES);
    expect(merged.status).toBe("over");
    expect(merged.summary).toBe("1 of 7 scenarios over budget");
    expect(merged.shards).toEqual({ total: 3, merged: [1, 2, 3] });
    expect(merged.shard).toBeUndefined();
    expect(merged.error).toBeUndefined();
  });

  it("one missing: the report's error names it, its scenarios are listed, and the headline says it first", () => {
    const merged = mergeReports(shardFiles(shard(1), shard(3)));
    expect(merged.error).toBe("shard 2 of 3: no report");
    expect(merged.status).toBe("error");
    expect(merged.summary).toMatch(/^Shard 2 of 3: no report; /);
    expect(merged.notes?.[0]).toBe(
      `shard 2 of 3 sent no report, so these scenarios were not measured: ${split[1]!.join(", ")}`,
    );
    expect(merged.scenarios.map((s) => s.name)).toEqual(NAMES.filter((n) => !split[1]!.includes(n)));
  });

  it("refuses a duplicate, another n, budget file, commit or split, naming both files", () => {
    expect(() => mergeReports(shardFiles(shard(1), shard(2), shard(2), shard(3)))).toThrow(
      "shard 2 of 3 twice: shard-2.json and shard-2.json",
    );
    const other = shard(2, { budgetDigest: `sha256:${"cd".repeat(32)}` });
    expect(() => mergeReports(shardFiles(shard(1), other, shard(3)))).toThrow(
      "shard-2.json (shard 2 of 3) and shard-1.json (shard 1 of 3) are not of one run: the budget files' digests differ",
    );
    expect(() => mergeReports(shardFiles(shard(1), shard(2, { commit: "2".repeat(40) })))).toThrow(
      "the head commits differ",
    );
    const four = shard(2);
    four.shard = { ...four.shard!, total: 4 };
    expect(() => mergeReports(shardFiles(shard(1), four))).toThrow("the shard counts differ (4 and 3)");
    const resplit = shard(2);
    resplit.shard = { ...resplit.shard!, assigned: [...resplit.shard!.assigned].reverse() };
    expect(() => mergeReports(shardFiles(shard(1), resplit))).toThrow("split the scenarios differently");
    const plain = report([{ name: "a", runs: [{ peakHeap: MiB }] }]);
    expect(() => mergeReports([...shardFiles(shard(1)), { file: "plain.json", report: plain }])).toThrow(
      "plain.json is not a shard report (made without --shard), but shard-1.json is shard 1 of 3",
    );
  });

  it("refuses a shard that holds scenarios its split does not give it", () => {
    const wrong = shard(1);
    wrong.scenarios = [...wrong.scenarios, ...shard(2).scenarios.slice(0, 1)];
    expect(() => mergeReports(shardFiles(wrong, shard(2), shard(3)))).toThrow(
      `shard-1.json (shard 1 of 3) does not hold the scenarios its split gives it; extra: ${split[1]![0]}`,
    );
  });
});

describe("merge of shard legs (as `membudget merge` and the Action's merge job do)", () => {
  it("keeps every test's base figure and verdict", () => {
    const test = (id: string, peak: number): TestReport => ({
      id,
      outcome: "passed",
      status: "pass",
      metrics: {
        peakHeap: {
          value: peak,
          min: peak,
          max: peak,
          spread: 0,
          runs: 1,
          kind: "exact",
          deterministic: true,
          status: "unbudgeted",
        },
      },
    });
    const suite = (tests: TestReport[]): Report => {
      const r = report([{ name: "suite", runs: [{ peakHeap: 40 * MiB }] }]);
      r.scenarios[0]!.tests = tests;
      r.scenarios[0]!.testSummary = { total: tests.length, over: 0, regressed: 0, new: 0, removed: 0 };
      return r;
    };
    const base = suite([test("t.py::a", MiB), test("t.py::b", MiB)]);
    const head = suite([test("t.py::a", MiB), test("t.py::b", 3 * MiB)]);
    const tests = [{ pattern: "*", budget: { peakHeap: 10 * MiB }, line: 3 }];
    const budgets = new Map([["suite", { budget: {}, tolerance: 0.02, tests }]]);
    const leg = judge({ ...head, base: { source: "base.json" } }, { base, budgets });
    const other = report(
      [{ name: "other", runs: [{ peakHeap: MiB }] }],
      report([{ name: "other", runs: [{ peakHeap: MiB }] }]),
    );
    const again = mergeReports(files(leg, other));
    const listed = again.scenarios[0]!.tests!;
    expect(listed.map((t) => [t.id, t.status, t.metrics.peakHeap?.base?.value])).toEqual([
      ["t.py::b", "regressed", MiB],
      ["t.py::a", "pass", MiB],
    ]);
    expect(again.scenarios[0]!.status).toBe("regressed");
  });
});
