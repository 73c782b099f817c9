// Allocation sites sampled in the measured run (the allocation probe's Python hook, mbmalloc-sites.c):
// real python3 runs of workloads with a known culprit behind a library helper, base against head
// across an inserted line, and a pytest suite whose failing test is not where the process peaked.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { parsePlan } from "../../src/config/plan.js";
import { select } from "../../src/config/select.js";
import { runPlan } from "../../src/engine/engine.js";
import { prepareNativeTools } from "../../src/measure/native.js";
import { mergeProcessFigures, probeEnv, readProbeFiles } from "../../src/measure/probes.js";
import { isLibraryFile, sampledSitesOfRun, userFrame } from "../../src/measure/sites.js";
import type { Site } from "../../src/model/report.js";
import { renderMarkdown } from "../../src/render/markdown.js";
import { renderTerminal } from "../../src/render/terminal.js";
import { explainingSites, scenarioSiteDiff, siteDiff } from "../../src/verdict/sites.js";

const DIR = fileURLToPath(new URL("../fixtures/workloads/sampled/", import.meta.url));
const REL = "test/fixtures/workloads/sampled";
const LIB = join(DIR, "lib", "site-packages");
const scratch = mkdtempSync(join(tmpdir(), "membudget-sampled-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
// A Python with pytest: Debian's (python3-pytest, as in CI), else the first python3 on PATH.
const PYTEST_PYTHON = ["/usr/bin/python3", "python3"].find(
  (py) => spawnSync(py, ["-c", "import pytest"]).status === 0,
);
const hasPytest = PYTEST_PYTHON !== undefined;

function plan(scenarios: Record<string, unknown>, defaults: Record<string, unknown> = {}) {
  const file = join(scratch, `budgets-${Math.random().toString(36).slice(2)}.json`);
  const text = JSON.stringify({ defaults: { repeat: 1, env: { PYTHONPATH: LIB }, ...defaults }, scenarios });
  writeFileSync(file, text);
  return parsePlan(text, file, file);
}

const runWith = (p: ReturnType<typeof plan>) => runPlan({ selection: select(p) });
const lines = (file: string) => readFileSync(join(DIR, file), "utf8").split("\n");
const lineOf = (file: string, text: string) => lines(file).findIndex((l) => l.startsWith(text)) + 1;

function runsIn(counter: string): number {
  try {
    return readFileSync(counter, "utf8").split("\n").filter(Boolean).length;
  } catch {
    return 0;
  }
}

async function measure(script: string, name: string) {
  const truth = join(scratch, `${name}.truth`);
  const counter = join(scratch, `${name}.count`);
  const report = await runWith(
    plan({
      [name]: { run: `python3 ${script} ${truth} ${counter}`, cwd: DIR, budget: { peakHeap: "1 MiB" } },
    }),
  );
  return {
    scenario: report.scenarios[0]!,
    truth: Number(readFileSync(truth, "utf8")),
    runs: runsIn(counter),
  };
}

describe("Python sites sampled in the measured run", () => {
  it("names the user's line that keeps 30 MiB through a library helper first, within the stated error, in one run", async () => {
    const { scenario, truth, runs } = await measure("head.py", "head");
    expect(scenario.status).toBe("over");
    expect(runs).toBe(1); // no attribution run
    expect(scenario.sites?.method).toBe("sampled");
    expect(scenario.sites?.interval).toBe(512 * 1024);
    const top = scenario.sites?.peak?.[0];
    const line = lineOf("head.py", "CATALOG = ");
    expect(top?.location).toBe(`${REL}/head.py:${line}`);
    expect(top?.function).toBe("<module>");
    expect(top?.code).toBe("CATALOG = catalogkit.rows(ROWS)");
    // The library frame where the rows were made is the context, shortened as a package path.
    expect(top?.context).toMatch(/^<site-packages>\/catalogkit\/__init__\.py:\d+$/);
    // Unbiased, with its standard error: four of them cover the truth but once in 15,000 runs.
    expect(top?.error).toBeGreaterThan(0);
    expect(Math.abs(top!.bytes - truth)).toBeLessThanOrEqual(4 * top!.error!);
    expect(top!.error! / truth).toBeLessThan(0.2);
    // The figures are the probe's, untouched by sampling.
    expect(scenario.metrics.peakHeap!.value).toBeGreaterThanOrEqual(truth);
  });

  it("matches base and head by the line's text across a line inserted above it: the culprit grew first", async () => {
    // Two checkouts of one app.py (head.py's and base.py's text), each its own repository.
    const checkout = (which: string) => {
      const dir = join(scratch, which);
      mkdirSync(dir, { recursive: true });
      copyFileSync(join(DIR, `${which}.py`), join(dir, "app.py"));
      spawnSync("git", ["init", "-q", dir]);
      return dir;
    };
    const at = async (which: string) => {
      const dir = checkout(which);
      const truth = join(scratch, `${which}-co.truth`);
      const report = await runWith(
        plan({ app: { run: `python3 app.py ${truth}`, cwd: dir, budget: { peakHeap: "1 MiB" } } }),
      );
      return { scenario: report.scenarios[0]!, truth: Number(readFileSync(truth, "utf8")) };
    };
    const head = await at("head");
    const base = await at("base");
    const headLine = lineOf("head.py", "CATALOG = ");
    const baseLine = lineOf("base.py", "CATALOG = ");
    expect(baseLine).toBe(headLine + 1);
    expect(base.scenario.sites?.peak?.[0]?.location).toBe(`app.py:${baseLine}`);
    // The same code at another line number in each: matched by text, not line.
    const diff = siteDiff(head.scenario.sites!.peak!, base.scenario.sites!.peak!);
    const first = diff[0]!;
    expect(first.location).toBe(`app.py:${headLine}`);
    expect(first.baseBytes).toBeGreaterThan(0); // matched to base.py's catalog line, not new
    const grown = head.truth - base.truth;
    const error = Math.hypot(first.error!, first.baseError!);
    expect(Math.abs(first.bytes - first.baseBytes - grown)).toBeLessThanOrEqual(4 * error);
  });

  it.skipIf(!hasPytest)(
    "names the failing test's own line, not collection's, in the test's peak window",
    async () => {
      const counter = join(scratch, "suite.count");
      const report = await runWith(
        plan({
          suite: {
            run: `${PYTEST_PYTHON} -m pytest -q -p no:cacheprovider suite; echo run >> ${counter}`,
            cwd: DIR,
            tests: { "*test_big*": { peakHeap: "4 MiB" } },
          },
        }),
      );
      const s = report.scenarios[0]!;
      expect(runsIn(counter)).toBe(1);
      const big = s.tests?.find((t) => t.id.endsWith("test_big"));
      expect(big?.status).toBe("over");
      const top = big?.sites?.[0];
      expect(top?.location).toBe(
        `${REL}/suite/test_suite.py:${lineOf("suite/test_suite.py", "    article = ")}`,
      );
      expect(top?.function).toBe("test_big");
      // 3 MiB of rows at the test's peak, not the 20 MiB collection keeps.
      const truth = 3 * 1024 * (4096 + 57);
      expect(Math.abs(top!.bytes - truth)).toBeLessThanOrEqual(4 * top!.error! + 0.05 * truth);
      expect(big!.sites!.some((site) => site.location.includes("conftest.py"))).toBe(false);
      // What the reader sees: the failing test's own sites, in the comment and the terminal.
      const markdown = renderMarkdown(report);
      // (Markdown escapes the underscores.)
      expect(markdown).toContain("Where the memory went in suite/test\\_suite.py::test\\_big");
      expect(markdown).toContain("sampled/suite/test\\_suite.py:");
      const terminal = renderTerminal(report, { colour: false });
      expect(terminal).toContain("suite/test_suite.py::test_big: sites held at its peak:");
    },
  );
});

// A free-threaded CPython keeps Python's block sizes in a pointer -> size table (mbmalloc-table.c);
// MEMBUDGET_PYTHON_TABLE=1 takes that path on any build. MEMBUDGET_TEST_FREE_THREADED names a
// free-threaded python3 (python3.13t) to run it with, with no GIL between the threads.
const FREE_THREADED = process.env["MEMBUDGET_TEST_FREE_THREADED"];

describe("Python sites sampled on the table path (free-threaded builds' way)", () => {
  it("names each of four threads' lines that keep 8 MiB at once, each within its stated error", async () => {
    const truthFile = join(scratch, "threads.truth");
    const python = FREE_THREADED ?? "python3";
    const report = await runWith(
      plan({
        threads: {
          run: `${python} threads.py ${truthFile}`,
          cwd: DIR,
          env: { PYTHONPATH: LIB, ...(FREE_THREADED ? {} : { MEMBUDGET_PYTHON_TABLE: "1" }) },
          budget: { peakHeap: "1 MiB" },
        },
      }),
    );
    const scenario = report.scenarios[0]!;
    expect(scenario.status, scenario.reason).toBe("over");
    expect(scenario.sites?.method).toBe("sampled");
    const truth = JSON.parse(readFileSync(truthFile, "utf8")) as Record<string, number>;
    const peak = scenario.sites?.peak ?? [];
    for (const name of ["first", "second", "third", "fourth"]) {
      const location = `${REL}/threads.py:${lines("threads.py").findIndex((l) => l.endsWith(`# keeps: ${name}`)) + 1}`;
      // (ends with: in a chroot the worktree's git directory is out of reach, so paths stay absolute)
      const site = peak.find((s) => s.location.endsWith(location));
      expect(site, `${location} in ${JSON.stringify(peak.map((s) => s.location))}`).toBeDefined();
      expect(Math.abs(site!.bytes - truth[name]!)).toBeLessThanOrEqual(
        4 * site!.error! + 0.02 * truth[name]!,
      );
    }
  });
});

describe("Node.js sites from the measured run", () => {
  it("V8's sampling heap profiler in the first run names the culprit with its error, no extra run", async () => {
    const sites = fileURLToPath(new URL("../fixtures/workloads/sites/", import.meta.url));
    const counter = join(scratch, "node.count");
    const report = await runWith(
      plan({ js: { run: `node culprit.js ${counter}`, cwd: sites, budget: { peakHeap: "1 MiB" } } }),
    );
    const s = report.scenarios[0]!;
    expect(s.status).toBe("over");
    expect(runsIn(counter)).toBe(1);
    expect(s.sites?.method).toBe("sampled");
    const top = s.sites?.peak?.[0];
    expect(top?.function).toBe("buildIndex");
    expect(top?.code).toBe("function buildIndex(n) {");
    expect(top?.error).toBeGreaterThan(0);
    expect(top!.error! / top!.bytes).toBeLessThan(0.05);
  });
});

describe("per-test peak windows", () => {
  it("name the test's own line, not what collection keeps (the plugin's calls, without pytest)", async () => {
    const out = mkdtempSync(join(scratch, "windows-"));
    await prepareNativeTools([["mbmalloc", "shared"]]);
    const env = { ...process.env, PYTHONPATH: LIB };
    const probe = probeEnv("python", out, env);
    const r = spawnSync("python3", ["windows.py"], {
      cwd: DIR,
      // A 64 KiB mean interval: the ranking of 20 MiB against 12 MiB below must not hang on a
      // two-sigma draw (about one run in forty at 512 KiB).
      env: { ...env, ...probe.env, MEMBUDGET_SITES_SAMPLE: String(64 * 1024) },
    });
    expect(r.status).toBe(0);
    const merged = mergeProcessFigures(readProbeFiles(out), "python");
    const sampled = sampledSitesOfRun(merged.processes, DIR);
    const big = sampled?.windows?.find((w) => w.test === 1);
    const top = big?.sites[0];
    expect(top?.location).toBe(`${join(DIR, "windows.py")}:${lineOf("windows.py", "    article = ")}`);
    expect(top?.function).toBe("test_big");
    const truth = 3 * 1024 * 4153; // bytearray(4096): 4,153 bytes each (sys.getsizeof)
    expect(Math.abs(top!.bytes - truth)).toBeLessThanOrEqual(4 * top!.error! + 0.02 * truth);
    expect(big!.sites.some((s) => s.location.includes("GOLDEN") || s.code?.startsWith("GOLDEN"))).toBe(false);
    // The whole process's peak is collection's 20 MiB plus the test's: its top site is GOLDEN.
    expect(sampled?.peak?.[0]?.code).toMatch(/^GOLDEN = /);
  });
});

describe("which frame names a site (pure)", () => {
  const root = "/home/u/repo";
  const own = (file: string) => file.startsWith("/opt/membudget/");
  it("walks past the stdlib, site-packages, dist-packages, virtualenvs and membudget to the repository's frame", () => {
    const stack = [
      { file: "/usr/lib/python3.11/json/decoder.py" },
      { file: "/usr/lib/python3/dist-packages/werkzeug/datastructures.py" },
      { file: "/home/u/repo/.venv/lib/python3.12/site-packages/flask/app.py" },
      { file: "/opt/membudget/_membudget_probe.py" },
      { file: "/home/u/repo/app/views.py" },
      { file: "/home/u/repo/main.py" },
    ];
    const chosen = userFrame(stack, root, own);
    expect(chosen?.frame.file).toBe("/home/u/repo/app/views.py");
    expect(chosen?.context?.file).toBe("/usr/lib/python3.11/json/decoder.py");
    expect(isLibraryFile("/home/u/venv/lib/python3.10/site-packages/x.py")).toBe(true);
    expect(isLibraryFile("/home/u/repo/venv/src/x.py")).toBe(true);
    expect(isLibraryFile("<frozen importlib._bootstrap>")).toBe(true);
    expect(isLibraryFile("/home/u/repo/lib/thing.py")).toBe(false);
  });
  it("falls back to the innermost frame that is not library code, then to the innermost", () => {
    expect(
      userFrame([{ file: "/usr/lib/python3.11/a.py" }, { file: "/elsewhere/b.py" }], root, own)?.frame.file,
    ).toBe("/elsewhere/b.py");
    expect(userFrame([{ file: "/usr/lib/python3.11/a.py" }], root, own)?.frame.file).toBe(
      "/usr/lib/python3.11/a.py",
    );
    expect(userFrame([{ file: "/opt/membudget/x.py" }], root, own)).toBeUndefined();
  });
  it("explains an allocated verdict by the sites that allocated most, a peak verdict by those live at the peak", () => {
    const metrics = (bad: string) => ({
      peakHeap: { status: bad === "peakHeap" ? "over" : "pass" },
      allocated: { status: bad === "allocated" ? "regressed" : "pass" },
    });
    expect(explainingSites({ metrics: metrics("allocated") } as never)).toBe("allocated");
    expect(explainingSites({ metrics: metrics("peakHeap") } as never)).toBe("peak");
    const a: Site = { location: "a.py:1", function: "f", code: "x = f()", bytes: 9e6 };
    const both = { peak: [a], allocated: [{ ...a, bytes: 90e6 }] };
    const base = { peak: [{ ...a, bytes: 1e6 }], allocated: [{ ...a, bytes: 10e6 }] };
    expect(scenarioSiteDiff(both, base, 10, "allocated")?.diffOf).toBe("allocated");
    expect(scenarioSiteDiff(both, base)?.diffOf).toBe("peak");
  });

  it("lists no growth within twice the sampling error", () => {
    const at = (bytes: number, error: number): Site => ({
      location: "a.py:1",
      function: "f",
      code: "x",
      bytes,
      error,
    });
    expect(siteDiff([at(11e6, 1e6)], [at(10e6, 1e6)])).toEqual([]);
    expect(siteDiff([at(20e6, 1e6)], [at(10e6, 1e6)])[0]?.baseBytes).toBe(10e6);
  });

  it("never compares two different statements that share a line number", () => {
    const site = (location: string, code: string, bytes: number): Site => ({
      location,
      function: "load",
      code,
      bytes,
    });
    const head = [
      site("load.py:48", "row = parse(line)", 7e6),
      site("load.py:51", "RAW_ROWS.append(row)", 119e6),
    ];
    const base = [site("load.py:48", "RAW_ROWS = []", 7e6), site("load.py:49", "row = parse(line)", 7e6)];
    const diff = siteDiff(head, base);
    expect(diff.map((d) => [d.location, d.baseBytes])).toEqual([["load.py:51", 0]]);
  });
});
