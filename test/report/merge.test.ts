// Reports of separate jobs merged into one: every scenario once, the totals computed anew.
import { describe, expect, it } from "vitest";
import { mergeReports } from "../../src/report/merge.js";
import { MiB, report } from "../helpers/reports.js";

describe("mergeReports", () => {
  it("keeps each scenario's own verdict, and recomputes the status and the sentence over all", () => {
    const one = report([{ name: "a", runs: [{ peakHeap: 10 * MiB }], budget: { peakHeap: 16 * MiB } }]);
    const two = report(
      [{ name: "b", runs: [{ peakHeap: 20 * MiB }], budget: { peakHeap: 16 * MiB } }],
      undefined,
      { notes: ["same note"] },
    );
    const three = report([{ name: "c", runs: [{ peakHeap: 1 * MiB }] }], undefined, { notes: ["same note"] });
    const merged = mergeReports([one, two, three]);
    expect(merged.scenarios.map((s) => [s.name, s.status])).toEqual([
      ["a", "pass"],
      ["b", "over"],
      ["c", "pass"],
    ]);
    expect(merged.status).toBe("over");
    expect(merged.summary).toBe("1 of 3 scenarios over budget");
    expect(merged.notes).toEqual(["same note"]);
  });

  it("lets a later report win when two name the same scenario", () => {
    const early = report([{ name: "a", runs: [{ peakHeap: 20 * MiB }], budget: { peakHeap: 16 * MiB } }]);
    const late = report([{ name: "a", runs: [{ peakHeap: 10 * MiB }], budget: { peakHeap: 16 * MiB } }]);
    const merged = mergeReports([early, late]);
    expect(merged.scenarios).toHaveLength(1);
    expect(merged.scenarios[0]?.metrics.peakHeap?.value).toBe(10 * MiB);
    expect(merged.status).toBe("pass");
  });

  it("refuses to merge nothing", () => {
    expect(() => mergeReports([])).toThrow("nothing to merge");
  });
});
