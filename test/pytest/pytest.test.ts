// Per-test budgets as a user meets them: real pytest (Debian's /usr/bin/python3 with
// python3-pytest and python3-pytest-xdist) under `node dist/cli.js run`, ground truth from the
// suite in test/fixtures/workloads/pytest (a test holding 30 MiB, one marked limit_memory("8 MB")
// holding 12 MiB, small ones with ids that need escaping).
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import type { Report, ScenarioReport } from "../../src/model/report.js";
import { readReport } from "../../src/report/io.js";

const CLI = resolve("dist/cli.js");
const SUITE = resolve("test/fixtures/workloads/pytest");
const PYTHON = "/usr/bin/python3";
const MiB = 1024 * 1024;
const hasPytest = spawnSync(PYTHON, ["-c", "import pytest, xdist"]).status === 0;
// The plugin's heap figures come from the scenario's own heap probe. Most cases use tracemalloc,
// made certain by leaving the allocation probe unbuildable (no compiler), as on a machine without
// gcc; one case runs with the interposer (its peak window, membudget_counters/membudget_window).
const NO_INTERPOSER = {
  CC: "/bin/false",
  MEMBUDGET_CACHE_DIR: mkdtempSync(join(tmpdir(), "mb-pytest-cache-")),
};

function run(budgets: unknown, ...args: string[]) {
  return runWith(NO_INTERPOSER, budgets, ...args);
}

function runWith(probeEnv: Record<string, string>, budgets: unknown, ...args: string[]) {
  const dir = mkdtempSync(join(tmpdir(), "mb-pytest-"));
  writeFileSync(join(dir, "membudget.json"), JSON.stringify(budgets, null, 2));
  const r = spawnSync(
    process.execPath,
    [CLI, "run", "--report", "report.json", "--markdown", "comment.md", ...args],
    {
      cwd: dir,
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1", ...probeEnv },
      timeout: 240_000,
    },
  );
  const report = readReport(join(dir, "report.json"));
  return {
    dir,
    code: r.status,
    stdout: r.stdout,
    stderr: r.stderr,
    report,
    // As a reader sees it: the non-breaking spaces that keep a figure on one line are spaces.
    markdown: readFileSync(join(dir, "comment.md"), "utf8").replace(/\u00a0/g, " "),
  };
}

function unit(command: string, extra: Record<string, unknown> = {}) {
  return {
    scenarios: {
      unit: {
        run: command,
        runtime: "python",
        cwd: SUITE,
        repeat: 1,
        sites: "never",
        tests: {
          "tests/test_memory.py::test_big": { peakHeap: "20 MiB" },
          "tests/*.py::*": { peakHeap: "16 MiB" },
          "tests/test_gone.py::*": { peakHeap: "1 MiB" },
        },
        ...extra,
      },
    },
  };
}

const pytest = (more = "") => `${PYTHON} -m pytest -q -p no:cacheprovider ${more} tests`;
const test = (s: ScenarioReport | undefined, id: string) => s?.tests?.find((t) => t.id === `tests/${id}`);

function expectFigures(report: Report) {
  const s = report.scenarios[0];
  const big = test(s, "test_memory.py::test_big");
  // Setup + call + teardown of a test holding a 30 MiB bytearray, above the heap at its start.
  expect(Math.abs(big!.metrics.peakHeap!.value - 30 * MiB) / (30 * MiB)).toBeLessThan(0.02);
  expect(big?.status).toBe("over");
  expect(big?.metrics.peakHeap?.budget).toBe(20 * MiB);
  const marked = test(s, "test_memory.py::test_marked");
  expect(Math.abs(marked!.metrics.peakHeap!.value - 12 * MiB) / (12 * MiB)).toBeLessThan(0.02);
  // pytest-memray's "8 MB" is 8 × 1024²; the marker beats the 16 MiB glob.
  expect(marked?.metrics.peakHeap?.budget).toBe(8 * MiB);
  expect(marked?.budgetFrom).toEqual(["marker"]);
  expect(marked?.status).toBe("over");
  const small = test(s, "test_memory.py::test_small");
  expect(small?.status).toBe("pass");
  expect(small!.metrics.peakHeap!.value).toBeLessThan(256 * 1024);
  expect(small?.outcome).toBe("passed");
  expect(s?.testSummary?.total).toBe(7);
  expect(s?.testSummary?.over).toBe(2);
  expect(s?.status).toBe("over");
  // The scenario's own peak is still the process's, though the per-test windows reset the probe's.
  expect(s!.metrics.peakHeap!.value).toBeGreaterThan(30 * MiB);
}

describe.skipIf(!hasPytest)("per-test budgets with real pytest", () => {
  it("measures each test, judges it against its glob or marker, and names the failing ids", () => {
    const r = run(unit(pytest()));
    expect(r.code).toBe(1);
    expectFigures(r.report);
    expect(r.stdout).toMatch(
      /tests\/test_memory\.py::test_big\s+peak heap\s+—\s+30\.0 MiB\s+—\s+20\.0 MiB\s+over budget/,
    );
    expect(r.stdout).toMatch(
      /tests\/test_memory\.py::test_marked\s+peak heap\s+—\s+12\.0 MiB\s+—\s+8\.0 MiB\s+over budget/,
    );
    expect(r.stdout).toContain('warning: no test matches "tests/test_gone.py::*"');
    expect(r.markdown).toContain(
      "| 🔴 | test\\_memory.py::test\\_big | peak heap | — | 30.0 MiB | — | 20.0 MiB |",
    );
    expect(r.markdown).toContain("Top 5 tests by peak heap");
    // The tests sit under their scenario: after its row, before its chart.
    const at = (text: string) => r.markdown.indexOf(text);
    expect(at("| **unit** |")).toBeGreaterThan(0);
    expect(at("**unit** · ")).toBeGreaterThan(at("| **unit** |"));
    expect(at("Memory over the run of unit")).toBeGreaterThan(at("Top 5 tests by peak heap"));
    // Ids with | ` [ ] cannot break the table: every row keeps its 4 cells.
    const odd = r.markdown.split("\n").filter((l) => l.includes("test\\_odd\\_ids"));
    expect(odd.length).toBeGreaterThan(0);
    for (const row of odd) {
      expect(row).toMatch(/test\\_odd\\_ids\\\[(a&#124;b|\\`tick\\`|\\\[x\\\])\\\]/);
      expect(row.split(/(?<!\\)\|/).length).toBe(6);
    }
  });

  it("measures each test's peak heap, allocated bytes and allocations with the allocation probe", () => {
    const r = runWith({}, unit(pytest()));
    expect(r.code).toBe(1);
    const s = r.report.scenarios[0];
    // The scenario's figures are the interposer's (allocated is measured only by it).
    expect(s?.metrics.allocated?.value).toBeGreaterThan(42 * MiB);
    expectFigures(r.report);
    const big = test(s, "test_memory.py::test_big")!.metrics;
    // The 30 MiB bytearray is requested once: the test's total is that plus pytest's bookkeeping.
    expect(big.allocated!.value).toBeGreaterThanOrEqual(30 * MiB);
    expect((big.allocated!.value - 30 * MiB) / (30 * MiB)).toBeLessThan(0.02);
    const small = test(s, "test_memory.py::test_small")!.metrics;
    expect(small.allocations!.value).toBeGreaterThan(0);
    expect(small.allocated!.value).toBeLessThan(1 * MiB);
    expect(big.allocations!.value).toBeGreaterThan(0);
    // Every test's window sits inside the process's: none exceeds the scenario's peak.
    for (const t of s!.tests!)
      expect(t.metrics.peakHeap!.value).toBeLessThanOrEqual(s!.metrics.peakHeap!.value);
  });

  it("against a base where the big test held 10 MiB: regressed or over with the change; a head-only test is new", () => {
    const base = run(unit(pytest("-k 'not test_added'"), { env: { MB_BIG_MIB: "10" } }));
    expect(
      test(base.report.scenarios[0], "test_memory.py::test_big")?.metrics.peakHeap?.value,
    ).toBeGreaterThan(10 * MiB);
    const basePath = join(base.dir, "report.json");
    const head = run(unit(pytest()), "--base", basePath);
    const s = head.report.scenarios[0];
    const big = test(s, "test_memory.py::test_big");
    expect(["over", "regressed"]).toContain(big?.status);
    expect(big?.metrics.peakHeap?.delta).toBeGreaterThan(1.9); // 10 → 30 MiB: +200 %
    expect(test(s, "test_head_only.py::test_added")?.status).toBe("new");
    expect(s?.testSummary?.new).toBe(1);
    expect(head.stdout).toMatch(
      /tests\/test_memory\.py::test_big\s+peak heap\s+10\.0 MiB\s+30\.0 MiB\s+\+\d+/,
    );
    expect(head.markdown).toMatch(/test\\_big \| peak heap \| 10\.0 MiB \| 30\.0 MiB \| \*\*\+\d/);
  });

  it("gives the same figures under xdist -n 2, each id once, the scenario's peak the largest worker's", () => {
    const r = run(unit(pytest("-n 2")));
    expect(r.code).toBe(1);
    expectFigures(r.report);
    const ids = r.report.scenarios[0]!.tests!.map((t) => t.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(
      (r.report.scenarios[0]?.testSummary?.warnings ?? []).some((w) => w.includes("more than one process")),
    ).toBe(false);
    // The controller and two workers are probed processes; the peak is one process's, not a sum.
    expect(r.report.scenarios[0]?.runs[0]?.processes).toBeGreaterThanOrEqual(3);
    expect(r.report.scenarios[0]!.metrics.peakHeap!.value).toBeLessThan(60 * MiB);
  });

  it("registers limit_memory, so --strict-markers accepts it without pytest-memray", () => {
    const r = run(unit(pytest("--strict-markers")));
    expect(r.code).toBe(1);
    expect(r.report.scenarios[0]?.status).toBe("over");
  });

  it("says why a per-test total cannot be judged rather than passing it", () => {
    const r = run({
      scenarios: {
        unit: {
          run: pytest(),
          runtime: "python",
          cwd: SUITE,
          repeat: 1,
          sites: "never",
          tests: { "*": { allocated: "1 GiB" } },
        },
      },
    });
    expect(r.code).toBe(3);
    expect(r.report.scenarios[0]?.status).toBe("error");
    expect(r.report.scenarios[0]?.reason).toContain("per-test allocated budgeted but not measurable here");
  });
});
