// Scenarios in parallel: the probed runs side by side, every timed run alone, and the heap figures
// byte for byte those of one run after another.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadPlan } from "../../src/config/plan.js";
import { select } from "../../src/config/select.js";
import type { Plan } from "../../src/config/types.js";
import { runPlan } from "../../src/engine/engine.js";
import type { Report } from "../../src/model/report.js";

/** Three Python workloads of different shapes (a dict, tuples, string churn) and a Node.js one. */
function plan() {
  const dir = mkdtempSync(join(tmpdir(), "membudget-parallel-"));
  const script = (name: string, text: string) => {
    writeFileSync(join(dir, name), text);
    return name;
  };
  script("dict.py", "d = {i: str(i) for i in range(200_000)}\n");
  script(
    "tuples.py",
    "t = [(i, i * 2) for i in range(300_000)]\ndel t\nu = [b'x' * 100 for _ in range(50_000)]\n",
  );
  script("churn.py", "s = 0\nfor i in range(200_000):\n    s += len(str(i) * 3)\n");
  script("hold.js", "const a = []; for (let i = 0; i < 200000; i++) a.push({ i }); console.log(a.length);\n");
  writeFileSync(
    join(dir, "membudget.json"),
    JSON.stringify({
      // Sites off: this holds the scheduling's promise; the sampler draws random intervals of its
      // own, tested in sampled-sites.test.ts.
      defaults: { repeat: 1, cleanRun: "always", sites: "never" },
      scenarios: {
        dict: { run: "python3 dict.py" },
        tuples: { run: "python3 tuples.py" },
        churn: { run: "python3 churn.py" },
        node: { run: "node hold.js", runtime: "node", repeat: 2 },
      },
    }),
  );
  return loadPlan(join(dir, "membudget.json"));
}

type Event = { scenario: string; index: number; phase: "start" | "end"; parallel: boolean };

async function measured(p: Plan, jobs: number): Promise<{ report: Report; events: Event[] }> {
  const events: Event[] = [];
  const report = await runPlan({
    selection: select(p),
    jobs,
    hooks: {
      onRun: (e) =>
        events.push({ scenario: e.scenario, index: e.index, phase: e.phase, parallel: e.parallel === true }),
    },
  });
  return { report, events };
}

/** The figures of the probed runs that must not depend on what else ran: heap, totals, counts. */
function heapFigures(report: Report) {
  return report.scenarios
    .filter((s) => s.runtime === "python")
    .map((s) => {
      const probed = s.runs.find((r) => r.instrumented)!;
      return {
        name: s.name,
        peakHeap: probed.figures.peakHeap,
        allocated: probed.figures.allocated,
        allocations: probed.figures.allocations,
        gcCollections: probed.figures.gcCollections,
      };
    });
}

describe("scenarios in parallel", () => {
  it("gives byte-identical heap figures serial and parallel; probed runs overlap, timed runs run alone", async () => {
    // The same files for both: a script's path is part of what Python allocates.
    const p = plan();
    // The Python probe's code in membudget's cache first: the first Python process after an
    // install compiles it and may count one allocation apart (python-probe.test.ts), which on a
    // fresh machine would be the serial run's first scenario.
    await runPlan({ selection: select(p, { only: ["dict"] }) });
    const serial = await measured(p, 1);
    const parallel = await measured(p, 3);
    const figures = heapFigures(serial.report);
    expect(figures).toHaveLength(3);
    for (const f of figures) {
      expect(f.peakHeap).toBeGreaterThan(0);
      expect(f.allocations).toBeGreaterThan(0);
    }
    expect(heapFigures(parallel.report)).toEqual(figures);
    expect(parallel.report.scenarios.map((s) => s.status)).toEqual(["pass", "pass", "pass", "pass"]);

    // One after another: nothing overlaps.
    expect(maxActive(serial.events)).toBe(1);
    // Side by side: the three probed runs started before any ended, marked parallel.
    expect(parallel.events.slice(0, 3).map((e) => [e.scenario, e.index, e.phase, e.parallel])).toEqual([
      ["dict", 1, "start", true],
      ["tuples", 1, "start", true],
      ["churn", 1, "start", true],
    ]);
    // Every run that gives time or RSS (the clean runs, Node.js's) ran with nothing else running.
    for (const [i, e] of parallel.events.entries()) {
      if (e.phase !== "start" || e.parallel) continue;
      expect(parallel.events[i + 1], `${e.scenario} run ${e.index} ran alone`).toMatchObject({
        scenario: e.scenario,
        index: e.index,
        phase: "end",
      });
      expect(active(parallel.events, i)).toBe(0);
    }
    // The clean runs still gave the timed figures.
    for (const s of parallel.report.scenarios) expect(s.metrics.wallTime?.value).toBeGreaterThan(0);
  }, 120_000);
});

/** Runs going on just before event i. */
function active(events: Event[], i: number): number {
  let n = 0;
  for (const e of events.slice(0, i)) n += e.phase === "start" ? 1 : -1;
  return n;
}

function maxActive(events: Event[]): number {
  let n = 0;
  let max = 0;
  for (const e of events) {
    n += e.phase === "start" ? 1 : -1;
    max = Math.max(max, n);
  }
  return max;
}
