// Annotations on the budget file: an error at the line of each broken budget, a warning per regression.
import { describe, expect, it } from "vitest";
import { annotationsOf } from "../../src/render/annotations.js";
import { MiB, report } from "../helpers/reports.js";

describe("annotationsOf", () => {
  it("puts an over-budget figure at its budget's line, a regression as a warning, a failure at its scenario", () => {
    const base = report([{ name: "grows", runs: [{ allocations: 100_000 }] }]);
    const r = report(
      [
        { name: "fat", runs: [{ peakHeap: 70 * MiB }], budget: { peakHeap: 64 * MiB } },
        { name: "grows", runs: [{ allocations: 150_000 }], budget: { allocations: 1e6 } },
        { name: "crash", runs: [{}], error: "exited with code 1" },
        { name: "fine", runs: [{ peakHeap: 1 * MiB }], budget: { peakHeap: 64 * MiB } },
      ],
      base,
    );
    r.scenarios[0]!.source = { line: 3, budgetLines: { peakHeap: 5 } };
    const annotations = annotationsOf(r, "ci/membudget.json");
    expect(annotations).toEqual([
      {
        level: "error",
        file: "ci/membudget.json",
        line: 5,
        title: "membudget: fat over budget (peak heap)",
        message: "peak heap 70.0 MiB is over its budget of 64.0 MiB",
      },
      {
        level: "warning",
        file: "ci/membudget.json",
        line: 3,
        title: "membudget: grows regressed (allocations)",
        message: "allocations grew from 100.0 k to 150.0 k, more than the 2.0% tolerance",
      },
      {
        level: "error",
        file: "ci/membudget.json",
        line: 3,
        title: "membudget: crash failed",
        message: "exited with code 1",
      },
    ]);
  });
});
