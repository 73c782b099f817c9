// A judged report judged again from the base it carries (as a merged report is) comes back unchanged.
import { describe, expect, it } from "vitest";
import type { Report } from "../../src/model/report.js";
import type { TestReport } from "../../src/model/tests.js";
import { carriedBase } from "../../src/verdict/carried.js";
import { judge } from "../../src/verdict/judge.js";
import { MiB, report } from "../helpers/reports.js";

describe("carriedBase", () => {
  it("gives back every status, delta, removed scenario, base timeline and site diff", () => {
    const base = report([
      { name: "grew", runs: [{ peakHeap: 10 * MiB }, { peakHeap: 10 * MiB }] },
      { name: "noisy", runs: [{ peakRss: 100 * MiB }, { peakRss: 104 * MiB }] },
      { name: "gone", runs: [{ peakHeap: MiB }] },
    ]);
    base.scenarios[0]!.timeline = [
      { t: 0, rss: MiB },
      { t: 1, rss: 2 * MiB },
    ];
    base.scenarios[0]!.sites = {
      peak: [
        { location: "app.py:10", function: "load", bytes: 4 * MiB },
        { location: "app.py:20", function: "keep", bytes: 6 * MiB },
        { location: "app.py:30", function: "shrink", bytes: 3 * MiB },
      ],
    };
    const measured = report([
      {
        name: "grew",
        runs: [{ peakHeap: 15 * MiB }, { peakHeap: 15 * MiB }],
        budget: { peakHeap: 32 * MiB },
      },
      {
        name: "noisy",
        runs: [{ peakRss: 130 * MiB }, { peakRss: 131 * MiB }],
        budget: { peakRss: 1024 * MiB },
      },
      { name: "fresh", runs: [{ peakHeap: MiB }] },
    ]);
    measured.scenarios[0]!.sites = {
      peak: [
        { location: "app.py:10", function: "load", bytes: 9 * MiB },
        { location: "app.py:20", function: "keep", bytes: 6 * MiB },
        { location: "app.py:30", function: "shrink", bytes: 1 * MiB },
        { location: "app.py:40", function: "new", bytes: 1 * MiB },
      ],
    };
    const judged = judge({ ...measured, base: { source: "base.json" } }, { base });
    expect(judged.scenarios.map((s) => [s.name, s.status])).toEqual([
      ["grew", "regressed"],
      ["noisy", "regressed"],
      ["fresh", "new"],
      ["gone", "removed"],
    ]);
    expect(judged.scenarios[0]!.sites?.diff?.map((d) => [d.location, d.baseBytes])).toEqual([
      ["app.py:10", 4 * MiB],
      ["app.py:40", 0],
    ]);
    const carried = carriedBase(judged);
    expect(judge(judged, { base: carried! })).toEqual(judged);
  });

  it("is undefined for a report judged against no base", () => {
    const plain: Report = report([{ name: "a", runs: [{ peakHeap: MiB }] }]);
    expect(carriedBase(plain)).toBeUndefined();
  });
});

describe("carriedBase of a pytest scenario", () => {
  const t = (id: string, peak: number): TestReport => ({
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
  const suite = (name: string, tests: TestReport[]): Report => {
    const r = report([{ name, runs: [{ peakHeap: 40 * MiB }] }]);
    r.scenarios[0]!.tests = tests;
    r.scenarios[0]!.testSummary = { total: tests.length, over: 0, regressed: 0, new: 0, removed: 0 };
    return r;
  };
  const filler = (n: number) =>
    Array.from({ length: n }, (_, i) => t(`tests/test_f.py::test_${i}`, 1000 + i));
  const rules = [{ pattern: "*", budget: { peakHeap: 10 * MiB }, line: 3 }];
  const budgets = new Map([["suite", { budget: {}, tolerance: 0.02, tests: rules }]]);

  it.each([
    ["a suite listed whole", 0],
    ["a suite longer than the report lists", 40],
  ])("gives back every test's base figures, regressions, new and removed tests: %s", (_, extra) => {
    const base = suite("suite", [
      t("tests/test_a.py::test_a", MiB),
      t("tests/test_a.py::test_grew", 2 * MiB),
      t("tests/test_a.py::test_gone", MiB),
      ...filler(extra),
    ]);
    const head = suite("suite", [
      t("tests/test_a.py::test_a", MiB),
      t("tests/test_a.py::test_grew", 3 * MiB),
      t("tests/test_a.py::test_fresh", MiB),
      ...filler(extra),
    ]);
    const judged = judge({ ...head, base: { source: "base.json" } }, { base, budgets });
    const tests = judged.scenarios[0]!.tests!;
    expect(tests.filter((x) => x.status !== "pass").map((x) => [x.id, x.status])).toEqual([
      ["tests/test_a.py::test_grew", "regressed"],
      ["tests/test_a.py::test_fresh", "new"],
      ["tests/test_a.py::test_gone", "removed"],
    ]);
    expect(tests.find((x) => x.id === "tests/test_a.py::test_a")?.metrics.peakHeap?.base?.value).toBe(MiB);
    // Judged again from what it carries (a merged report is), with the budgets it carries.
    expect(judge(judged, { base: carriedBase(judged)! })).toEqual(judged);
  });
});
