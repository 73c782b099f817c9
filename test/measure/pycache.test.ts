// Same figures whatever the bytecode caches hold: a Python scenario's allocations with and without
// an existing __pycache__ (an earlier step ran the code; a fresh base worktree has none), and in the
// first run after an install (membudget's own cache empty, as on every fresh runner) and the next.
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { loadPlan } from "../../src/config/plan.js";
import { select } from "../../src/config/select.js";
import { runPlan } from "../../src/engine/engine.js";
import type { Report } from "../../src/model/report.js";

/** A repository with a module worth compiling (300 functions), a script importing it, and a pytest test. */
function repository(): string {
  const dir = mkdtempSync(join(tmpdir(), "membudget-pycache-"));
  execFileSync("git", ["init", "-q", dir]);
  const functions = Array.from(
    { length: 300 },
    (_, i) => `def f${i}(x):\n    y = [x * ${i} + k for k in range(10)]\n    return sum(y) + len(str(y))\n`,
  ).join("\n");
  writeFileSync(join(dir, "big_mod.py"), functions);
  writeFileSync(join(dir, "main.py"), "import big_mod\nheld = [big_mod.f1(i) for i in range(20_000)]\n");
  writeFileSync(
    join(dir, "test_big.py"),
    `import big_mod\n\n${Array.from({ length: 60 }, (_, i) => `def test_${i}():\n    assert big_mod.f${i}(${i}) > -1\n`).join("\n")}`,
  );
  return dir;
}

function budgets(dir: string, env: Record<string, string> = {}): string {
  const file = join(dir, "membudget.json");
  writeFileSync(
    file,
    JSON.stringify({
      // Sites off: this holds the bytecode cache's effect; the sampler is tested on its own.
      defaults: { repeat: 1, sites: "never" },
      scenarios: {
        script: { run: "python3 main.py", env },
        tests: { run: "python3 -m pytest -q -p no:cacheprovider test_big.py", env },
      },
    }),
  );
  return file;
}

/** A run of the scenarios' code outside membudget, as a workflow's earlier test step leaves it: __pycache__ written. */
function warm(dir: string): void {
  execFileSync("python3", ["main.py"], { cwd: dir });
  execFileSync("python3", ["-m", "pytest", "-q", "-p", "no:cacheprovider", "test_big.py"], { cwd: dir });
  expect(existsSync(join(dir, "__pycache__"))).toBe(true);
}

const figure = (report: Report, name: string, metric: "allocated" | "allocations") =>
  report.scenarios.find((s) => s.name === name)!.metrics[metric]!.value;

const gap = (a: number, b: number) => Math.abs(a - b) / a;

// membudget's cache starts empty, as on a fresh runner: this file's first run is the first after an
// install (the probe's helpers are built into it, the Python probe's code compiled into it).
const cacheDir = mkdtempSync(join(tmpdir(), "membudget-pycache-cache-"));
let savedCache: string | undefined;
beforeAll(() => {
  savedCache = process.env["MEMBUDGET_CACHE_DIR"];
  process.env["MEMBUDGET_CACHE_DIR"] = cacheDir;
});
afterAll(() => {
  if (savedCache === undefined) delete process.env["MEMBUDGET_CACHE_DIR"];
  else process.env["MEMBUDGET_CACHE_DIR"] = savedCache;
  rmSync(cacheDir, { recursive: true, force: true });
});

// Python writes bytecode as it does on a runner (this machine's environment may say not to).
let saved: string | undefined;
beforeEach(() => {
  saved = process.env["PYTHONDONTWRITEBYTECODE"];
  delete process.env["PYTHONDONTWRITEBYTECODE"];
});
afterEach(() => {
  if (saved !== undefined) process.env["PYTHONDONTWRITEBYTECODE"] = saved;
});

describe("the bytecode cache", () => {
  it("gives the first run after an install the figures of the next (membudget's own code is not counted)", async () => {
    // The first pytest process compiled the plugin inside the measured window, and pytest's
    // assertion rewriter kept it in a __pycache__ beside it: 0.84 % more allocated than the next
    // run (1.7 MB, 10,000 allocations), so a job's head read more than its base.
    const dir = repository();
    const plan = loadPlan(budgets(dir));
    const first = await runPlan({ selection: select(plan, { only: ["tests"] }) });
    const second = await runPlan({ selection: select(plan, { only: ["tests"] }) });
    for (const metric of ["allocated", "allocations"] as const) {
      const a = figure(first, "tests", metric);
      const b = figure(second, "tests", metric);
      // Measured: 0.002 % apart (the test's own allocations vary by a few dozen).
      expect(gap(a, b), `tests ${metric}: ${a} first, ${b} second`).toBeLessThan(0.001);
    }
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it("gives the same allocated and allocations within 0.5 % with and without an existing __pycache__", async () => {
    // Installed packages (pytest's own) have their bytecode, as pip leaves them on a runner: only
    // the repository's own files differ between a fresh checkout and one whose tests ran.
    const other = repository();
    warm(other);
    rmSync(other, { recursive: true, force: true });
    const dir = repository();
    const plan = loadPlan(budgets(dir));
    const cold = await runPlan({ selection: select(plan) });
    // membudget itself wrote no bytecode for the repository's files.
    expect(existsSync(join(dir, "__pycache__"))).toBe(false);
    warm(dir);
    const warmed = await runPlan({ selection: select(plan) });
    for (const name of ["script", "tests"]) {
      for (const metric of ["allocated", "allocations"] as const) {
        const a = figure(cold, name, metric);
        const b = figure(warmed, name, metric);
        expect(gap(a, b), `${name} ${metric}: ${a} without, ${b} with __pycache__`).toBeLessThan(0.005);
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it("without it (MEMBUDGET_SOURCE_ROOT set empty) the cache moves the figures: the test can fail", async () => {
    const other = repository();
    warm(other);
    rmSync(other, { recursive: true, force: true });
    const dir = repository();
    const plan = loadPlan(budgets(dir, { MEMBUDGET_SOURCE_ROOT: "" }));
    rmSync(join(dir, "__pycache__"), { recursive: true, force: true });
    const withoutCache = await runPlan({ selection: select(plan) });
    warm(dir);
    const withCache = await runPlan({ selection: select(plan) });
    expect(
      gap(figure(withoutCache, "script", "allocated"), figure(withCache, "script", "allocated")),
    ).toBeGreaterThan(0.05);
    expect(
      gap(figure(withoutCache, "tests", "allocated"), figure(withCache, "tests", "allocated")),
    ).toBeGreaterThan(0.05);
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);
});
