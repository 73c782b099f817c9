// `membudget init` as a new user runs it: a repository with a pytest suite and no budget file.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { expect, it } from "vitest";
import { loadPlan } from "../../src/config/plan.js";

const CLI = resolve("dist/cli.js");

function membudget(cwd: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
    timeout: 240_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

it("init in a fresh repository with a pytest suite, then run: exit 0", { timeout: 300_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), "mb-init-"));
  mkdirSync(join(dir, "tests"));
  writeFileSync(
    join(dir, "tests/test_catalog.py"),
    [
      "def test_small():",
      "    assert sum(range(1000)) == 499500",
      "",
      "def test_rows():",
      '    rows = [{"id": i, "name": str(i)} for i in range(20000)]',
      "    assert len(rows) == 20000",
      "",
    ].join("\n"),
  );
  writeFileSync(join(dir, "load.py"), "print(len(bytearray(3 << 20)))\n");
  expect(membudget(dir, "init", "--headroom", "nope").code).toBe(2);
  const init = membudget(dir, "init", "python3 load.py");
  expect(init.code, init.stderr).toBe(0);
  expect(init.stdout).toContain("Wrote membudget.json:");
  expect(init.stdout).toMatch(
    /pytest {2}\(a pytest suite \(tests\/\)\): python3 -m pytest -q -p no:cacheprovider tests/,
  );
  expect(init.stdout).toMatch(
    /tests\["\*"\]\.peakHeap: [\d.]+ [KM]iB {2}\(largest run .* \+ 10\.0%, tests\/test_catalog\.py::test_rows\)/,
  );
  expect(init.stdout).toContain("Review:");
  const text = readFileSync(join(dir, "membudget.json"), "utf8");
  expect(JSON.parse(text).$schema).toBe("./node_modules/membudget/dist/budgets.schema.json");
  const plan = loadPlan(join(dir, "membudget.json"));
  expect(plan.scenarios.map((s) => [s.name, Object.keys(s.budget)])).toEqual([
    ["pytest", ["peakHeap", "allocated"]],
    ["load", ["peakHeap", "allocated"]],
  ]);
  const run = membudget(dir, "run");
  expect(run.code, run.stdout + run.stderr).toBe(0);
  // A second init would overwrite the budgets: it says what to do instead.
  const again = membudget(dir, "init");
  expect(again.code).toBe(2);
  expect(again.stderr).toContain("membudget.json exists already: `membudget update` sets its budgets");
});

it("init with nothing to measure says what it looked for and how to name a command", () => {
  const dir = mkdtempSync(join(tmpdir(), "mb-init-"));
  const r = membudget(dir, "init");
  expect(r.code).toBe(2);
  expect(r.stderr).toContain("no pytest suite found in this folder (pytest.ini, pyproject.toml");
  expect(r.stderr).toContain('membudget init "python3 scripts/load.py"');
  expect(existsSync(join(dir, "membudget.json"))).toBe(false);
});
