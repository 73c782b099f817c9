import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadPlan } from "../../src/config/plan.js";
import { BudgetFileError } from "../../src/model/errors.js";

function budgetFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "mb-config-"));
  const file = join(dir, "membudget.json");
  writeFileSync(file, text);
  return file;
}

function problemsOf(text: string) {
  try {
    loadPlan(budgetFile(text));
  } catch (err) {
    expect(err).toBeInstanceOf(BudgetFileError);
    return err as BudgetFileError;
  }
  throw new Error("expected the budget file to be rejected");
}

describe("budget file", () => {
  it("loads scenarios with units, defaults and inferred runtimes", () => {
    const file = budgetFile(`{
  // comments are fine
  "defaults": { "repeat": 5, "timeout": "30s", "tolerance": "3%" },
  "scenarios": {
    "load": { "run": "python3 load.py", "budget": { "peakHeap": "64 MiB", "allocated": "1.5 GB", "allocationRate": "400 MB/s" } },
    "serve": { "run": "node server.js", "repeat": 1, "timeout": "500ms", "budget": { "peakRss": 1048576, "wallTime": "2m", "allocations": "250k" } },
    "tool": { "run": "./bin/tool --fast", "cwd": "sub" }
  }
}`);
    const plan = loadPlan(file);
    const [load, serve, tool] = plan.scenarios;
    expect(load).toMatchObject({
      runtime: "python",
      repeat: 5,
      timeout: 30,
      tolerance: 0.03,
      budget: { peakHeap: 64 * 1024 * 1024, allocated: 1.5e9, allocationRate: 400e6 },
    });
    expect(load?.source.budgetLines.peakHeap).toBe(5);
    expect(serve).toMatchObject({
      runtime: "node",
      repeat: 1,
      timeout: 0.5,
      budget: { peakRss: 1048576, wallTime: 120, allocations: 250_000 },
    });
    expect(tool?.runtime).toBe("native");
    expect(tool?.cwd).toBe(join(file, "..", "sub"));
  });

  it("accepts 64 MB and 64MiB alike, and rejects 64 megs listing the accepted forms", () => {
    const ok = loadPlan(
      budgetFile(
        '{"scenarios":{"a":{"run":"python3 a.py","budget":{"peakHeap":"64MiB","peakRss":"64 MB"}}}}',
      ),
    );
    expect(ok.scenarios[0]?.budget).toEqual({ peakHeap: 67108864, peakRss: 64e6 });

    const err = problemsOf(`{
  "scenarios": {
    "a": {
      "run": "python3 a.py",
      "budget": { "peakHeap": "64 megs" }
    }
  }
}`);
    expect(err.problems).toHaveLength(1);
    expect(err.message).toContain("membudget.json:5:31 at /scenarios/a/budget/peakHeap");
    expect(err.message).toContain('"64 megs" is not a size');
    expect(err.message).toContain("KiB/MiB/GiB");
  });

  it("names the closest valid key for a misspelt one", () => {
    const err = problemsOf(`{
  "scenarios": {
    "a": { "run": "x", "budget": { "peakheap": "1 MiB", "alocated": "2 MiB" } },
    "b": { "run": "x", "budgets": {} }
  }
}`);
    const byPointer = Object.fromEntries(err.problems.map((p) => [p.pointer, p]));
    expect(byPointer["/scenarios/a/budget/peakheap"]).toMatchObject({
      line: 3,
      message: 'unknown key "peakheap"',
    });
    expect(byPointer["/scenarios/a/budget/peakheap"]?.fix).toMatch(/^did you mean "peakHeap"\?/);
    expect(byPointer["/scenarios/a/budget/alocated"]?.fix).toMatch(/^did you mean "allocated"\?/);
    expect(byPointer["/scenarios/b/budgets"]).toMatchObject({ line: 4, column: 24 });
    expect(byPointer["/scenarios/b/budgets"]?.fix).toMatch(/^did you mean "budget"\?/);
  });

  it("takes cleanRun from the scenario, then defaults, else auto; refuses another value saying which are accepted", () => {
    const plan = loadPlan(
      budgetFile(`{
  "defaults": { "cleanRun": "always" },
  "scenarios": { "a": { "run": "x" }, "b": { "run": "x", "cleanRun": "auto" } }
}`),
    );
    expect(plan.scenarios.map((s) => s.cleanRun)).toEqual(["always", "auto"]);
    expect(loadPlan(budgetFile('{ "scenarios": { "a": { "run": "x" } } }')).scenarios[0]?.cleanRun).toBe(
      "auto",
    );
    const err = problemsOf(`{
  "scenarios": { "a": { "run": "x", "cleanRun": "never" } }
}`);
    expect(err.problems[0]).toMatchObject({ pointer: "/scenarios/a/cleanRun", line: 2 });
    expect(`${err.problems[0]?.message} ${err.problems[0]?.fix}`).toMatch(/auto.*always/);
  });

  it("says what is missing and what a rate looks like", () => {
    const err = problemsOf(`{
  "scenarios": {
    "a": { "budget": { "allocationRate": "400 MB" } }
  }
}`);
    expect(err.message).toContain('missing required key "run"');
    expect(err.message).toContain('fix: add "run"');
    expect(err.message).toContain('"400 MB" is not a rate');
    expect(err.message).toContain("400 MB/s");
  });

  it("points at JSON syntax errors with line and column", () => {
    const err = problemsOf('{\n  "scenarios": {\n    "a": { "run": "x" }\n    "b": {}\n  }\n}');
    expect(err.problems[0]).toMatchObject({ line: 4, column: 5 });
    expect(err.message).toContain("not valid JSON: CommaExpected");
  });

  it("rejects an unknown runtime with a suggestion, and a missing file with the fix", () => {
    const err = problemsOf('{"scenarios":{"a":{"run":"x","runtime":"pyhton"}}}');
    expect(err.message).toContain('"pyhton" is not one of python, node, native');
    expect(err.message).toContain('did you mean "python"?');
    expect(() => loadPlan("/nonexistent/membudget.json")).toThrow(
      /cannot read the budget file \(ENOENT\)[\s\S]*fix: write one with `npx membudget init`/,
    );
  });
});
