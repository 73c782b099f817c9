// Figures that stay true where users meet them: one repeat measured like three (no figure the
// probe distorts comes from the probed run), and a process tree's memory with shared pages counted
// once, each against a referee (/usr/bin/time, the processes' own /proc figures).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import type { Scenario } from "../../src/config/types.js";
import { measureScenario } from "../../src/measure/scenario.js";
import { summarise } from "../../src/verdict/summarise.js";

const WORKLOADS = fileURLToPath(new URL("../fixtures/workloads/python/", import.meta.url));
const MiB = 2 ** 20;
const SLOW = 180_000;
const scratch = mkdtempSync(join(tmpdir(), "membudget-fidelity-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

// The real interpreter, not pyenv's shim script, so that the referees measure the same process.
const python = spawnSync("python3", ["-c", "import sys; print(sys.executable)"], {
  encoding: "utf8",
}).stdout.trim();

function scenario(run: string, extra: Partial<Scenario> = {}): Scenario {
  return {
    name: "s",
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
    ...extra,
  };
}

/** Peak RSS in bytes as GNU time reports it (KiB): the referee for peakRss. */
function timePeak(argv: string[]): number {
  const result = spawnSync("/usr/bin/time", ["-f", "%M", ...argv], { cwd: WORKLOADS, encoding: "utf8" });
  expect(result.status).toBe(0);
  return Number(result.stderr.trim().split("\n").at(-1)) * 1024;
}

function within(actual: number | undefined, expected: number, fraction: number): void {
  expect(actual).toBeDefined();
  expect(Math.abs((actual as number) - expected) / expected).toBeLessThanOrEqual(fraction);
}

describe("one repeat", () => {
  it(
    "with a budget on peak RSS, runs the probe once and a clean run once, and takes peak RSS and wall time from the clean run only",
    async () => {
      const { runs } = await measureScenario(
        scenario(`"${python}" churn.py 100000`, { budget: { peakRss: 512 * MiB } }),
      );
      expect(runs.map((r) => r.instrumented)).toEqual([true, false]);
      const [probed, clean] = runs as [(typeof runs)[0], (typeof runs)[0]];
      expect(probed.figures.allocations).toBeGreaterThan(100_000);
      expect(clean.figures.allocations).toBeUndefined();
      const summary = summarise("python", runs);
      expect(summary.peakRss?.value).toBe(clean.figures.peakRss);
      expect(summary.wallTime?.value).toBe(clean.figures.wallTime);
      expect(summary.peakRss?.runs).toBe(1);
      // The allocation rate: the probe's totals over the clean run's time.
      expect(summary.allocationRate?.value).toBe(
        (probed.figures.allocated as number) / (clean.figures.wallTime as number),
      );
      // The probe's figures: from the probed run.
      expect(summary.allocations?.value).toBe(probed.figures.allocations);
    },
    SLOW,
  );

  it(
    "with budgets on heap figures only, runs once and reports time and RSS unavailable, saying why, not the probed run's",
    async () => {
      const { runs } = await measureScenario(
        scenario(`"${python}" churn.py 100000`, { budget: { peakHeap: 64 * MiB, allocations: 10 ** 7 } }),
      );
      expect(runs.map((r) => r.instrumented)).toEqual([true]);
      const summary = summarise("python", runs);
      expect(summary.allocations?.value).toBe(runs[0]!.figures.allocations);
      expect(summary.peakHeap?.value).toBeGreaterThan(0);
      for (const metric of ["peakRss", "peakPss", "wallTime", "gcPause", "allocationRate"] as const) {
        expect(summary[metric], metric).toBeUndefined();
        expect(runs[0]!.unavailable?.[metric], metric).toMatch(/clean run.*"cleanRun": "always"/);
      }
      // "cleanRun": "always" brings the clean run back without a budget.
      const always = await measureScenario(scenario(`"${python}" churn.py 1000`, { cleanRun: "always" }));
      expect(always.runs.map((r) => r.instrumented)).toEqual([true, false]);
      expect(summarise("python", always.runs).peakRss?.value).toBe(always.runs[1]!.figures.peakRss);
    },
    SLOW,
  );

  it(
    "measures CPython's json.tool on a JSON document within 3 % of /usr/bin/time",
    async () => {
      // 5 MB here; MB_JSON_RECORDS=160000 makes the 20 MB document (40 s on 2 cores).
      const count = Number(process.env["MB_JSON_RECORDS"] ?? 40_000);
      const doc = join(scratch, "doc.json");
      const records = Array.from({ length: count }, (_, i) => ({
        id: i,
        name: `item-${i}`,
        tags: ["a", "b", String(i % 7)],
        price: i / 7,
        nested: { ok: i % 2 === 0, text: "x".repeat(i % 40) },
      }));
      writeFileSync(doc, JSON.stringify(records));
      expect(readFileSync(doc).length).toBeGreaterThan(count * 120);
      const argv = [python, "-m", "json.tool", doc, join(scratch, "out.json")];
      const { runs } = await measureScenario(
        scenario(argv.map((a) => `"${a}"`).join(" "), { budget: { peakRss: 4096 * MiB } }),
      );
      const summary = summarise("python", runs);
      const referee = timePeak(argv);
      within(summary.peakRss?.value, referee, 0.03);
      // What the probed run alone would have said (the figure one repeat used to give).
      const probed = runs.find((r) => r.instrumented)?.figures.peakRss as number;
      expect(probed).toBeGreaterThan(referee * 1.05);
    },
    SLOW,
  );
});

describe("tree memory", () => {
  it(
    "counts the shared pages of a parent and two forked Pool workers once (peakPss), and peakRss is the largest worker's",
    async () => {
      const out = join(scratch, "pool.jsonl");
      const { runs } = await measureScenario(
        scenario(`"${python}" pool_tree.py "${out}" 50`, { budget: { peakPss: 4096 * MiB } }),
      );
      expect(runs.every((r) => !r.error)).toBe(true);
      // Each run appended its referee; the clean run (the last) is the one the figures come from.
      const lines = readFileSync(out, "utf8").trim().split("\n");
      expect(lines).toHaveLength(runs.length);
      const referee = JSON.parse(lines.at(-1)!) as { pss: number; workerPeak: Record<string, number> };
      const clean = runs.at(-1)!;
      expect(clean.instrumented).toBe(false);
      const largestWorker = Math.max(...Object.values(referee.workerPeak));
      expect(largestWorker).toBeGreaterThan(50 * MiB);
      // The referee sums the three processes' PSS while all hold their 50 MiB.
      expect(referee.pss).toBeGreaterThan(100 * MiB);
      within(clean.figures.peakPss, referee.pss, 0.05);
      within(clean.figures.peakRss, largestWorker, 0.02);
      // Summed RSS counts the pages the workers share with the parent once per process.
      const summary = summarise("python", runs);
      expect(summary.peakPss?.value).toBe(clean.figures.peakPss);
      expect(summary.peakPss?.kind).toBe("sampled");
    },
    SLOW,
  );
});
