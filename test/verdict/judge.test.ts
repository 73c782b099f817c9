import { describe, expect, it } from "vitest";
import { MiB, report } from "../helpers/reports.js";

describe("verdicts", () => {
  it("passes within budget and fails over it, on the median of the runs", () => {
    const r = report([
      { name: "lean", runs: [{ peakHeap: 10 * MiB }], budget: { peakHeap: 16 * MiB } },
      {
        name: "fat",
        runs: [{ peakHeap: 70 * MiB }, { peakHeap: 63 * MiB }, { peakHeap: 66 * MiB }],
        budget: { peakHeap: 64 * MiB },
      },
    ]);
    const [lean, fat] = r.scenarios;
    expect(lean?.status).toBe("pass");
    expect(fat?.status).toBe("over");
    expect(fat?.metrics.peakHeap).toMatchObject({
      value: 66 * MiB,
      min: 63 * MiB,
      max: 70 * MiB,
      status: "over",
    });
    expect(fat?.reason).toBe("peak heap 66.0 MiB is over its budget of 64.0 MiB");
    expect(r.status).toBe("over");
    expect(r.summary).toBe("1 of 2 scenarios over budget");
  });

  it("calls a deterministic figure regressed past the tolerance, and not within it", () => {
    const base = report([
      { name: "a", runs: [{ allocations: 100_000 }], budget: { allocations: 1e6 } },
      { name: "b", runs: [{ allocations: 100_000 }], budget: { allocations: 1e6 } },
      { name: "tiny", runs: [{ allocations: 300 }], budget: { allocations: 1e6 } },
    ]);
    const head = report(
      [
        { name: "a", runs: [{ allocations: 103_000 }], budget: { allocations: 1e6 } },
        { name: "b", runs: [{ allocations: 101_500 }], budget: { allocations: 1e6 } },
        // +10 %, but 30 allocations: a new line of code in a small script, not a regression.
        { name: "tiny", runs: [{ allocations: 330 }], budget: { allocations: 1e6 } },
      ],
      base,
    );
    expect(head.scenarios.map((s) => s.status)).toEqual(["regressed", "pass", "pass"]);
    expect(head.scenarios[0]?.metrics.allocations?.delta).toBeCloseTo(0.03);
    expect(head.scenarios[2]?.metrics.allocations?.delta).toBeCloseTo(0.1);
    expect(head.summary).toBe("1 of 3 scenarios regressed");
  });

  it("does not flake on a noisy figure whose ranges overlap, but does when the head is clearly above", () => {
    const base = report([
      { name: "a", runs: [{ peakRss: 100 * MiB }, { peakRss: 120 * MiB }, { peakRss: 110 * MiB }] },
    ]);
    const budget = { peakRss: 1024 * MiB };
    const overlapping = report(
      [{ name: "a", runs: [{ peakRss: 115 * MiB }, { peakRss: 130 * MiB }, { peakRss: 125 * MiB }], budget }],
      base,
    );
    expect(overlapping.scenarios[0]?.metrics.peakRss?.status).toBe("pass");
    expect(overlapping.status).toBe("pass");
    const clear = report(
      [{ name: "a", runs: [{ peakRss: 150 * MiB }, { peakRss: 160 * MiB }, { peakRss: 155 * MiB }], budget }],
      base,
    );
    expect(clear.scenarios[0]?.metrics.peakRss?.status).toBe("regressed");
  });

  it("shows the growth of a metric without a budget, and never judges it", () => {
    const base = report([{ name: "a", runs: [{ peakHeap: 10 * MiB, gcCollections: 10 }] }]);
    const head = report([{ name: "a", runs: [{ peakHeap: 20 * MiB, gcCollections: 400 }] }], base);
    const m = head.scenarios[0]!.metrics;
    expect([m.peakHeap?.status, m.gcCollections?.status, head.scenarios[0]?.status]).toEqual([
      "unbudgeted",
      "unbudgeted",
      "pass",
    ]);
    expect(m.peakHeap?.delta).toBe(1);
    expect(m.peakHeap?.reason).toBe(
      "peak heap grew from 10.0 MiB to 20.0 MiB, more than the 2.0% tolerance (not budgeted, so not judged)",
    );
  });

  it("marks scenarios only on one side as new and removed, and errors as the worst", () => {
    const base = report([
      { name: "old", runs: [{ peakHeap: MiB }] },
      { name: "kept", runs: [{ peakHeap: MiB }] },
    ]);
    const head = report(
      [
        { name: "kept", runs: [{ peakHeap: MiB }], error: "exited with code 1" },
        { name: "fresh", runs: [{ peakHeap: MiB }], budget: { peakHeap: 2 * MiB } },
      ],
      base,
    );
    const byName = Object.fromEntries(head.scenarios.map((s) => [s.name, s.status]));
    expect(byName).toEqual({ kept: "error", fresh: "new", old: "removed" });
    expect(head.status).toBe("error");
    expect(head.summary).toBe("1 of 2 scenarios failed to run");
  });
});

describe("clean and instrumented runs", () => {
  it("takes wall time and RSS from clean runs, the heap from the instrumented one, and the rate from both", async () => {
    const { summarise } = await import("../../src/verdict/summarise.js");
    const s = summarise("python", [
      {
        instrumented: true,
        figures: { peakHeap: 64, allocated: 1000, allocations: 10, wallTime: 2, peakRss: 130 },
      },
      { instrumented: false, figures: { wallTime: 1, peakRss: 100 } },
      { instrumented: false, figures: { wallTime: 1.5, peakRss: 102 } },
    ]);
    expect(s.peakHeap).toMatchObject({ value: 64, runs: 1, deterministic: true });
    expect(s.wallTime).toMatchObject({ value: 1.25, min: 1, max: 1.5, runs: 2 });
    expect(s.peakRss).toMatchObject({ value: 101, runs: 2 });
    expect(s.allocationRate?.value).toBe(800);
  });
});
