// A judged report judged again from the base it carries (as a merged report is) comes back unchanged.
import { describe, expect, it } from "vitest";
import type { Report } from "../../src/model/report.js";
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
      { name: "noisy", runs: [{ peakRss: 130 * MiB }, { peakRss: 131 * MiB }] },
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
