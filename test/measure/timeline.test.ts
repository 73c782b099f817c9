// The heap timeline of Python and native programs: sampled by the runner beside RSS from the
// allocation probe's <pid>.live pages, in the normal instrumented run (no attribution run).
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { Scenario } from "../../src/config/types.js";
import { chooseTimeline, measureScenario } from "../../src/measure/scenario.js";

const WORKLOADS = fileURLToPath(new URL("../fixtures/workloads/python/", import.meta.url));
const MiB = 1024 * 1024;

function scenario(run: string): Scenario {
  return {
    name: "timeline",
    run,
    runtime: "python",
    cwd: WORKLOADS,
    env: {},
    timeout: 120,
    repeat: 1,
    tolerance: 0.02,
    sites: "never",
    cleanRun: "auto",
    budget: {},
    source: { line: 1, budgetLines: {} },
  };
}

describe("the heap timeline of a Python run", () => {
  it("samples heap and RSS in the same run on one clock; the highest heap within 2 % of peakHeap", async () => {
    const m = await measureScenario(scenario("python3 build_free.py"));
    // No budget needs time or RSS: one repeat is the one instrumented run.
    const [instrumented] = m.runs;
    expect(m.runs).toHaveLength(1);
    expect(instrumented?.instrumented).toBe(true);
    const timeline = m.timeline ?? [];
    const first = timeline.findIndex((p) => p.heap !== undefined);
    expect(first).toBeGreaterThanOrEqual(0);
    // One sampler, one clock: from the process's start on, every RSS sample of a live tree
    // carries the heap read on the same tick (no second series merged in, no stretched time axis).
    const sampled = timeline.slice(first).filter((p) => p.rss > 0);
    expect(sampled.length).toBeGreaterThan(10);
    expect(sampled.every((p) => p.heap !== undefined)).toBe(true);
    const heaps = sampled.map((p) => p.heap ?? 0);
    const high = Math.max(...heaps);
    const peakHeap = instrumented!.figures.peakHeap!;
    expect(peakHeap).toBeGreaterThan(45 * MiB);
    expect(peakHeap).toBeLessThan(56 * MiB);
    expect(Math.abs(high - peakHeap) / peakHeap).toBeLessThan(0.02);
    // The run is the instrumented one: its RSS (the probe's headers included) is this line's.
    const rssHigh = Math.max(...timeline.map((p) => p.rss));
    expect(rssHigh).toBeLessThanOrEqual(instrumented!.figures.peakRss! * 1.05);
    expect(rssHigh).toBeGreaterThan(high);
    // The heap falls when the rows are freed, while the process lingers.
    const at = heaps.indexOf(high);
    expect(Math.min(...heaps.slice(at))).toBeLessThan(high * 0.1);
    // The timeline is in seconds of this run, not a rescaled axis: it spans at least the workload's
    // two 0.3 s sleeps, and ends about when the run's wall time does. The two clocks differ by
    // rsswrap's start and the sampler's last tick after the workload ended, which a loaded machine
    // stretches to tenths of a second; an axis in other units, or squashed to fit, is off by more.
    const end = timeline.at(-1)!.t;
    expect(end).toBeGreaterThanOrEqual(0.6);
    expect(Math.abs(end - instrumented!.figures.wallTime!)).toBeLessThan(0.5);
  });
});

describe("which run's timeline is drawn (pure)", () => {
  const none = { timeline: undefined, instrumented: true, heap: false };
  const rssOnly = { timeline: [{ t: 0, rss: 1 }], instrumented: true, heap: false };
  const withHeap = { timeline: [{ t: 0, rss: 1, heap: 1 }], instrumented: true, heap: true };
  it("keeps the first run with a heap line over any other, and a clean RSS run when no run has one", () => {
    expect(chooseTimeline(none, { instrumented: true, heap: true })).toBe(true);
    expect(chooseTimeline(withHeap, { instrumented: false, heap: false })).toBe(false);
    expect(chooseTimeline(withHeap, { instrumented: true, heap: true })).toBe(false);
    expect(chooseTimeline(rssOnly, { instrumented: false, heap: false })).toBe(true);
    expect(chooseTimeline(rssOnly, { instrumented: true, heap: true })).toBe(true);
    expect(chooseTimeline({ ...rssOnly, instrumented: false }, { instrumented: false, heap: false })).toBe(
      false,
    );
  });
});
