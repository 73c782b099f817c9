// Allocation sites and the heap timeline: real python3 and node runs of workloads with a known
// culprit, the engine's `sites` setting (auto / never), and the pure helpers that shape the data.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { parsePlan } from "../../src/config/plan.js";
import { select } from "../../src/config/select.js";
import type { Scenario } from "../../src/config/types.js";
import { runPlan } from "../../src/engine/engine.js";
import { probeDir, probeFile } from "../../src/measure/probe-files.js";
import { mergeProcessFigures, probeEnv, readProbeFiles } from "../../src/measure/probes.js";
import { attributionRun } from "../../src/measure/scenario.js";
import {
  displayLocation,
  ownCodeOf,
  relativeSites,
  repositoryRoot,
  sitesOfRun,
  wantsSites,
} from "../../src/measure/sites.js";
import { mergeHeapTimeline } from "../../src/measure/timeline.js";

const WORKLOADS = fileURLToPath(new URL("../fixtures/workloads/sites/", import.meta.url));
const MiB = 1024 * 1024;
const scratch = mkdtempSync(join(tmpdir(), "membudget-sites-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function scenario(name: string, run: string, runtime: Scenario["runtime"]): Scenario {
  return {
    name,
    run,
    runtime,
    cwd: WORKLOADS,
    env: {},
    timeout: 120,
    repeat: 1,
    tolerance: 0.02,
    sites: "always",
    cleanRun: "auto",
    budget: {},
    source: { line: 1, budgetLines: {} },
  };
}

function runs(counter: string): number {
  try {
    return readFileSync(counter, "utf8").split("\n").filter(Boolean).length;
  } catch {
    return 0;
  }
}

describe("Python attribution (tracemalloc near the peak)", () => {
  it("names the function that built 50 MiB first, at its line, with the size within 10 %", async () => {
    const found = await attributionRun(scenario("py", "python3 culprit.py 40", "python"));
    expect(found.error).toBeUndefined();
    const top = found.sites.peak?.[0];
    // culprit.py line 10: `return [bytearray(MiB) for _ in range(n)]` inside build_catalog.
    expect(top?.location).toBe(`${join(WORKLOADS, "culprit.py")}:10`);
    expect(top?.function).toBe("build_catalog");
    const truth = 50 * MiB; // 50 bytearrays of 1 MiB each
    expect(Math.abs(top!.bytes - truth) / truth).toBeLessThan(0.1);
    expect(top?.count).toBeGreaterThanOrEqual(50);
    expect(top?.stack?.length).toBeLessThanOrEqual(5);
    // The catalog is dropped before exit: only a snapshot near the peak can have seen it, and the
    // sites that follow are the small helpers'.
    expect(found.sites.peak!.slice(1).every((s) => s.bytes < MiB)).toBe(true);
    // A library frame (json's decoder) is attributed to the user's line that called it.
    const json = found.sites.peak!.find((s) => s.function === "small_json");
    if (json) expect(json.location).toBe(`${join(WORKLOADS, "culprit.py")}:18`);
  });
});

describe("Node.js attribution (V8 sampling heap profiler)", () => {
  it("names the function that holds the most live memory first", async () => {
    const found = await attributionRun(scenario("js", "node culprit.js", "node"));
    expect(found.error).toBeUndefined();
    const top = found.sites.peak?.[0];
    expect(top?.function).toBe("buildIndex");
    // V8 samples by function: the line is where the function is defined.
    const source = readFileSync(join(WORKLOADS, "culprit.js"), "utf8").split("\n");
    const defined = source.findIndex((l) => l.startsWith("function buildIndex")) + 1;
    expect(top?.location).toBe(`${join(WORKLOADS, "culprit.js")}:${defined}`);
    // 1 M objects {id, score, tag}: at least 1 M × 5 words of 8 bytes, sampled every 32 KiB.
    expect(top!.bytes).toBeGreaterThan(40 * MiB * 0.9);
    expect(found.sites.peak!.slice(1).every((s) => s.bytes < top!.bytes / 10)).toBe(true);
    // Nothing of the probe's own making.
    expect(found.sites.peak!.some((s) => s.location.includes("probe.cjs"))).toBe(false);
  });
});

describe("the sites setting in the engine", () => {
  function plan(text: string) {
    const file = join(scratch, `budgets-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, text);
    return parsePlan(text, file, file);
  }

  it("auto: Python's sites sampled in the measured run, shown for the failing scenario only, paths relative to the repository", async () => {
    const over = join(scratch, "auto-over.count");
    const pass = join(scratch, "auto-pass.count");
    const p = plan(
      JSON.stringify({
        defaults: { repeat: 1, sites: "auto" },
        scenarios: {
          over: { run: `python3 culprit.py 5 ${over}`, cwd: WORKLOADS, budget: { peakHeap: "1 MiB" } },
          pass: { run: `python3 culprit.py 5 ${pass}`, cwd: WORKLOADS, budget: { peakHeap: "1 GiB" } },
        },
      }),
    );
    const report = await runPlan({ selection: select(p) });
    const [o, s] = report.scenarios;
    expect(o?.status).toBe("over");
    expect(s?.status).toBe("pass");
    expect(runs(over)).toBe(1); // no attribution run
    expect(runs(pass)).toBe(1);
    expect(o?.sites?.method).toBe("sampled");
    expect(o?.sites?.peak?.[0]?.location).toBe("test/fixtures/workloads/sites/culprit.py:10");
    expect(o?.sites?.peak?.[0]?.function).toBe("build_catalog");
    expect(s?.sites).toBeUndefined();
  });

  it("traced: one extra run under tracemalloc, for the failing scenario only, with paths relative to the repository", async () => {
    const over = join(scratch, "traced-over.count");
    const pass = join(scratch, "traced-pass.count");
    const p = plan(
      JSON.stringify({
        defaults: { repeat: 1, sites: "traced" },
        scenarios: {
          over: {
            run: `python3 culprit.py 5 ${over}`,
            cwd: WORKLOADS,
            budget: { peakHeap: "1 MiB" },
          },
          pass: {
            run: `python3 culprit.py 5 ${pass}`,
            cwd: WORKLOADS,
            budget: { peakHeap: "1 GiB" },
          },
        },
      }),
    );
    const report = await runPlan({ selection: select(p) });
    const [o, s] = report.scenarios;
    expect(o?.status).toBe("over");
    expect(s?.status).toBe("pass");
    // One repeat with heap budgets only is the instrumented run, then the attribution run.
    expect(runs(over)).toBe(2);
    expect(runs(pass)).toBe(1);
    expect(o?.runs.length).toBe(1); // the attribution run is not among the runs
    expect(o?.sites?.peak?.[0]?.location).toBe("test/fixtures/workloads/sites/culprit.py:10");
    expect(o?.sites?.peak?.[0]?.function).toBe("build_catalog");
    expect(o?.sites?.method).toBe("traced");
    expect(s?.sites).toBeUndefined();
    // Python's heap comes from the instrumented run, sampled beside its RSS (not the attribution run).
    expect(o?.timeline?.some((pt) => pt.heap !== undefined)).toBe(true);
    expect(o?.timeline?.length).toBeLessThanOrEqual(200);
  });

  it("accepts auto, always, traced, never, true and false, defaulting to auto", () => {
    const modes = (sites: unknown) =>
      plan(
        JSON.stringify({
          ...(sites === undefined ? {} : { defaults: { sites } }),
          scenarios: { a: { run: "true" } },
        }),
      ).scenarios[0]?.sites;
    expect(modes(undefined)).toBe("auto");
    expect(modes("always")).toBe("always");
    expect(modes(true)).toBe("always");
    expect(modes(false)).toBe("never");
    expect(modes("traced")).toBe("traced");
    expect(() => modes("sometimes")).toThrow(/not one of auto, always, traced, never/);
  });

  it("never (or false): no extra run, even over budget", async () => {
    const counter = join(scratch, "never.count");
    const p = plan(
      JSON.stringify({
        defaults: { repeat: 1 },
        scenarios: {
          over: {
            run: `python3 culprit.py 5 ${counter}`,
            cwd: WORKLOADS,
            sites: false,
            budget: { peakHeap: "1 MiB" },
          },
        },
      }),
    );
    expect(p.scenarios[0]?.sites).toBe("never");
    const report = await runPlan({ selection: select(p) });
    expect(report.scenarios[0]?.status).toBe("over");
    expect(runs(counter)).toBe(1); // the instrumented run: no attribution run (nor a clean run)
    expect(report.scenarios[0]?.sites).toBeUndefined();
  });

  it("Node.js normal runs carry the heap in the timeline", async () => {
    const p = plan(
      JSON.stringify({
        defaults: { repeat: 1, sites: "never" },
        scenarios: { js: { run: "node culprit.js", cwd: WORKLOADS } },
      }),
    );
    const report = await runPlan({ selection: select(p) });
    const timeline = report.scenarios[0]?.timeline ?? [];
    const heaps = timeline.flatMap((pt) => (pt.heap !== undefined ? [pt.heap] : []));
    expect(heaps.length).toBeGreaterThan(1);
    // The heap drawn reaches the measured peak heap (both are V8's used heap before a GC or at exit).
    expect(Math.max(...heaps)).toBe(report.scenarios[0]?.metrics.peakHeap?.value);
    for (let i = 1; i < timeline.length; i++)
      expect(timeline[i]!.t).toBeGreaterThanOrEqual(timeline[i - 1]!.t);
  });
});

describe("shaping sites and timelines (pure)", () => {
  it("makes paths relative to the repository and shortens library paths", () => {
    const root = "/home/u/repo";
    expect(displayLocation("/home/u/repo/pkg/mod.py:42", root)).toBe("pkg/mod.py:42");
    expect(displayLocation("/usr/lib/python3.11/json/decoder.py:353", root)).toBe(
      "<stdlib>/json/decoder.py:353",
    );
    expect(displayLocation("/home/u/.pyenv/versions/3.11.7/lib/python3.11/json/decoder.py:353", root)).toBe(
      "<stdlib>/json/decoder.py:353",
    );
    expect(displayLocation("/home/u/repo/.venv/lib/python3.11/site-packages/pkg/x.py:10", root)).toBe(
      "<site-packages>/pkg/x.py:10",
    );
    expect(displayLocation("/home/u/repo/node_modules/lib/x.js:3", root)).toBe("<node_modules>/lib/x.js:3");
    expect(displayLocation("/elsewhere/tool.py:7", root)).toBe("/elsewhere/tool.py:7");
    expect(displayLocation("node:internal/fs/promises:1", root)).toBe("node:internal/fs/promises:1");
    const [site] = relativeSites(
      [{ location: "/home/u/repo/a.py:1", bytes: 1, stack: ["/home/u/repo/a.py:1"] }],
      root,
    );
    expect(site).toEqual({ location: "a.py:1", bytes: 1, stack: ["a.py:1"] });
  });

  it("finds the repository root with git, else the fallback", () => {
    expect(repositoryRoot(WORKLOADS, "/fallback")).toBe(
      fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, ""),
    );
    expect(repositoryRoot(scratch, "/fallback")).toBe("/fallback");
  });

  it("puts heap points on the nearest RSS sample or between samples, bounded", () => {
    const rss = [
      { t: 0, rss: 10 },
      { t: 0.02, rss: 20 },
      { t: 0.1, rss: 40 },
    ];
    const merged = mergeHeapTimeline(rss, [
      { t: 0.021, heap: 5 },
      { t: 0.06, heap: 7 },
    ]);
    expect(merged).toEqual([
      { t: 0, rss: 10 },
      { t: 0.02, rss: 20, heap: 5 },
      { t: 0.06, rss: 30, heap: 7 },
      { t: 0.1, rss: 40 },
    ]);
    const many = Array.from({ length: 1000 }, (_, i) => ({ t: i / 100, rss: i }));
    const heap = Array.from({ length: 1000 }, (_, i) => ({ t: i / 100 + 0.005, heap: i === 500 ? 1e9 : i }));
    const bounded = mergeHeapTimeline(many, heap);
    expect(bounded.length).toBeLessThanOrEqual(200);
    expect(Math.max(...bounded.map((p) => p.heap ?? 0))).toBe(1e9);
    expect(Math.max(...bounded.map((p) => p.rss))).toBe(999);
  });

  it("attributes over budget and regressed scenarios under auto", () => {
    expect(wantsSites("auto", "over")).toBe(true);
    expect(wantsSites("auto", "regressed")).toBe(true);
    expect(wantsSites("auto", "pass")).toBe(false);
    expect(wantsSites("auto", "error")).toBe(false);
    expect(wantsSites("always", "pass")).toBe(true);
    expect(wantsSites("never", "over")).toBe(false);
  });
});

describe("membudget's own code", () => {
  it("is never an allocation site: the probe's sampler shows in the raw files, not in the sites", () => {
    const outDir = mkdtempSync(join(scratch, "own-"));
    const python = spawnSync("python3", ["-c", "import sys; print(sys.executable)"], {
      encoding: "utf8",
    }).stdout.trim();
    const probe = probeEnv("python", outDir, process.env, { allocations: false });
    const script = "import time\nx = [bytes(1000) for _ in range(2000)]\ntime.sleep(0.3)\n";
    const result = spawnSync(python, ["-c", script], {
      env: { ...process.env, ...probe.env, MEMBUDGET_SITES: "50" },
      encoding: "utf8",
    });
    expect(result.status).toBe(0);
    const { processes } = mergeProcessFigures(readProbeFiles(outDir), "python");
    const raw = processes.flatMap((p) => {
      const sites = p.extra?.["sites"] as { peak?: { location: string }[] } | undefined;
      return (sites?.peak ?? []).map((s) => s.location);
    });
    const ours = probeFile("python", "_membudget_sites.py");
    // The precondition: the sampler thread's own allocations are traced like the workload's.
    expect(raw.some((l) => l.startsWith(`${ours}:`))).toBe(true);
    const sites = sitesOfRun(processes, 50);
    const locations = [...(sites.peak ?? []), ...(sites.allocated ?? [])].map((s) => s.location);
    expect(locations).toContain("<string>:2");
    expect(locations.filter((l) => l.startsWith(probeDir()))).toEqual([]);
  });

  it("drops anything under the folder membudget runs from, unless that folder is the repository measured", () => {
    const here = fileURLToPath(import.meta.url);
    // As the Action: membudget's checkout is not the user's repository.
    expect(ownCodeOf(scratch)(here)).toBe(true);
    expect(ownCodeOf(scratch)(join(scratch, "app.py"))).toBe(false);
    // membudget measuring itself: its own tests are the user's code.
    const self = repositoryRoot(WORKLOADS, WORKLOADS);
    expect(ownCodeOf(self)(here)).toBe(false);
    expect(ownCodeOf(self)(probeFile("node", "probe.cjs"))).toBe(true);
    // Not a path: left alone.
    expect(ownCodeOf(scratch)("<frozen importlib._bootstrap>")).toBe(false);
  });
});
