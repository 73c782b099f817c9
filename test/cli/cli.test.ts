// The CLI as a user runs it: `node dist/cli.js …` on real budget files and real Python workloads.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { readReport } from "../../src/report/io.js";

const CLI = resolve("dist/cli.js");
const WORKLOADS = resolve("test/fixtures/workloads/cli");
const MiB = 1024 * 1024;

function project(budgets: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), "mb-cli-"));
  writeFileSync(
    join(dir, "membudget.json"),
    typeof budgets === "string" ? budgets : JSON.stringify(budgets, null, 2),
  );
  return dir;
}

function membudget(cwd: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const hold = (mib: number) => `python3 ${WORKLOADS}/hold.py ${mib}`;

describe("membudget run", () => {
  it("measures a 100 MiB peak within 1 %, passes its budget and writes the report and markdown", () => {
    const dir = project({
      scenarios: { hold: { run: hold(100), repeat: 3, budget: { peakHeap: "110 MiB", peakRss: "1 GiB" } } },
    });
    const r = membudget(dir, "run", "--report", "out/report.json", "--markdown", "out/comment.md");
    expect(r.stderr).toContain("▸ hold: run 3/3");
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/hold\s+peak heap\s+100 MiB/);
    expect(r.stdout).toContain("1 scenario within budget");
    const report = readReport(join(dir, "out/report.json"));
    const peak = report.scenarios[0]?.metrics.peakHeap;
    expect(Math.abs(peak!.value - 100 * MiB) / (100 * MiB)).toBeLessThan(0.01);
    // The heap comes from the one instrumented run (it is deterministic); RSS and wall time from
    // the two clean runs, which the allocation probe cannot disturb.
    expect(peak?.runs).toBe(1);
    expect(report.scenarios[0]?.metrics.peakRss?.runs).toBe(2);
    expect(report.scenarios[0]?.metrics.wallTime?.runs).toBe(2);
    expect(report.scenarios[0]?.runs.map((r) => r.figures.peakHeap !== undefined)).toEqual([
      true,
      false,
      false,
    ]);
    expect(readFileSync(join(dir, "out/comment.md"), "utf8")).toContain(
      "### ✅ membudget: 1 scenario within budget",
    );
  });

  it("exits 1 over budget and says by how much", () => {
    const dir = project({
      scenarios: { hold: { run: hold(40), repeat: 1, budget: { peakHeap: "32 MiB" } } },
    });
    const r = membudget(dir, "run");
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/hold\s+peak heap\s+40\.0 MiB\s+32\.0 MiB\s+over budget/);
    expect(r.stdout).toContain("1 of 1 scenario over budget");
  });

  it("exits 3 when a workload fails, showing the tail of its output, never a pass", () => {
    const dir = project({
      scenarios: {
        crash: { run: `python3 ${WORKLOADS}/crash.py`, repeat: 1, budget: { peakHeap: "1 GiB" } },
      },
    });
    const r = membudget(dir, "run");
    expect(r.code).toBe(3);
    expect(r.stdout).toContain("crash: exited with code 1");
    expect(r.stdout).toContain("KeyError: 'sku'");
    expect(r.stdout).toContain("1 of 1 scenario failed to run");
  });

  it("exits 3 when a workload outlives its timeout, and reports the timeout", () => {
    const dir = project({
      scenarios: { slow: { run: "python3 -c 'import time; time.sleep(60)'", repeat: 1, timeout: "1s" } },
    });
    const started = Date.now();
    const r = membudget(dir, "run");
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/slow: timed out after 1 s/);
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it("one repeat with a heap budget only: one run; time and RSS unavailable with why in the report and --all, not cluttering the table", async () => {
    const dir = project({
      scenarios: { hold: { run: hold(10), repeat: 1, budget: { peakHeap: "64 MiB" } } },
    });
    const r = membudget(dir, "run", "--report", "r.json", "--markdown", "c.md");
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/run 1\/1 done: .*peak RSS .* \(under the allocation probe\)/);
    const report = await readReport(join(dir, "r.json"));
    const s = report.scenarios[0]!;
    expect(s.runs).toHaveLength(1);
    expect(s.metrics.peakHeap?.value).toBeGreaterThan(10 * 2 ** 20);
    expect(s.metrics.peakRss).toBeUndefined();
    expect(s.unavailable?.peakRss).toMatch(/"cleanRun": "always"/);
    // Not asked for, so not a gap: the default table and the comment list the budgeted figures.
    expect(r.stdout).not.toMatch(/peak RSS|wall time/);
    expect(readFileSync(join(dir, "c.md"), "utf8")).not.toMatch(/peak RSS|wall time/);
    const all = membudget(dir, "run", "--all");
    expect(all.stdout).toMatch(/^\s+peak RSS\s+unavailable\s/m);
    expect(all.stdout).toMatch(/wall time unavailable: taken only from a clean run; with one repeat/);
    // --clean-run asks for it without a budget.
    const clean = membudget(dir, "run", "--all", "--clean-run");
    expect(clean.stderr).toMatch(/run 2\/2 done/);
    expect(clean.stdout).toMatch(/^\s+peak RSS\s+\d/m);
  });

  it("compares with a base report: deltas and regressed, and --fail-on regressed fails", () => {
    const dir = project({
      scenarios: { hold: { run: hold(20), repeat: 1, cleanRun: "always", budget: { peakHeap: "64 MiB" } } },
    });
    expect(membudget(dir, "run", "--report", "base.json").code).toBe(0);
    writeFileSync(
      join(dir, "membudget.json"),
      JSON.stringify({
        scenarios: { hold: { run: hold(30), repeat: 1, cleanRun: "always", budget: { peakHeap: "64 MiB" } } },
      }),
    );
    const warned = membudget(dir, "run", "--base", "base.json", "--report", "head.json", "--all");
    expect(warned.code).toBe(0);
    expect(warned.stdout).toMatch(
      /hold\s+peak heap\s+20\.0 MiB\s+30\.0 MiB\s+\+(49\.9|50\.0)%\s+64\.0 MiB\s+regressed/,
    );
    // One clean run each ("cleanRun": "always"): a noisy figure (RSS, wall time) is shown with its delta but not judged.
    expect(warned.stdout).toMatch(/peak RSS .* measured\n/);
    const failed = membudget(dir, "compare", "base.json", "head.json", "--fail-on", "regressed");
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain("1 of 1 scenario regressed");
  });
});

describe("the report", () => {
  it("records the commit the budget file's repository is at", () => {
    const dir = project({ scenarios: { t: { run: "true", repeat: 1 } } });
    const git = (...args: string[]) =>
      spawnSync("git", ["-c", "user.name=t", "-c", "user.email=t@example.com", ...args], {
        cwd: dir,
        encoding: "utf8",
      });
    git("init", "-q");
    git("add", ".");
    git("commit", "-qm", "budgets");
    const head = git("rev-parse", "HEAD").stdout.trim();
    expect(membudget(dir, "run", "--report", "r.json").code).toBe(0);
    expect(readReport(join(dir, "r.json")).commit).toBe(head);
  });
});

describe("membudget check", () => {
  it("judges a report's figures against today's budgets, without running anything", () => {
    const dir = project({
      scenarios: { hold: { run: hold(20), repeat: 1, cleanRun: "always", budget: { peakHeap: "64 MiB" } } },
    });
    expect(membudget(dir, "run", "--report", "r.json").code).toBe(0);
    // The budget is tightened (and the workload removed: check must not run it).
    writeFileSync(
      join(dir, "membudget.json"),
      JSON.stringify({
        scenarios: { hold: { run: "false", budget: { peakHeap: "16 MiB", peakExternal: "1 MiB" } } },
      }),
    );
    const r = membudget(dir, "check", "r.json", "--report", "checked.json");
    expect(r.code).toBe(3);
    const checked = readReport(join(dir, "checked.json")).scenarios[0]!;
    expect(checked.metrics.peakHeap).toMatchObject({ budget: 16 * MiB, status: "over" });
    // A budget on a figure the report does not have is an error, not a silent pass.
    expect(checked.status).toBe("error");
    expect(checked.reason).toContain("peakExternal (not in the report)");
    writeFileSync(
      join(dir, "membudget.json"),
      JSON.stringify({ scenarios: { hold: { run: "false", budget: { peakHeap: "16 MiB" } } } }),
    );
    const over = membudget(dir, "check", "r.json");
    expect(over.code).toBe(1);
    expect(over.stdout).toMatch(/hold\s+peak heap\s+20\.0 MiB\s+16\.0 MiB\s+over budget/);
  });
});

describe("membudget update", () => {
  it("measures, writes budgets that the next run passes, and keeps the file's comments", () => {
    const dir = project(
      `{\n  // ours\n  "scenarios": { "hold": { "run": "${hold(20)}", "repeat": 1, "budget": { "peakHeap": "10 MiB" } } }\n}\n`,
    );
    expect(membudget(dir, "run").code).toBe(1);
    const r = membudget(dir, "update", "--headroom", "10%");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/hold {2}peakHeap: 10\.0 MiB → 2[23](\.\d)? MiB/);
    const text = readFileSync(join(dir, "membudget.json"), "utf8");
    expect(text).toContain("// ours");
    expect(membudget(dir, "run").code).toBe(0);
    expect(membudget(dir, "update", "--headroom", "lots").stderr).toContain("--headroom takes a percentage");
  });
});

describe("Ctrl-C", () => {
  it("stops the running workload's whole tree, writes no report and exits 130", async () => {
    const dir = project({
      scenarios: {
        slow: { run: `sh -c 'echo $$ > pid; sleep 60' & wait`, runtime: "native", repeat: 3, timeout: "2m" },
      },
    });
    const child = spawn(process.execPath, [CLI, "run", "--report", "r.json"], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: "1" },
    });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    // Wait until the workload has started (it writes its pid), then press Ctrl-C.
    const started = Date.now();
    while (!existsSync(join(dir, "pid")) && Date.now() - started < 30_000)
      await new Promise((r) => setTimeout(r, 50));
    const pid = Number(readFileSync(join(dir, "pid"), "utf8"));
    child.kill("SIGINT");
    const code = await new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    expect(code).toBe(130);
    expect(stderr).toContain("membudget: cancelled; no report written");
    expect(existsSync(join(dir, "r.json"))).toBe(false);
    // The grandchild (sleep under sh under sh) is gone, not orphaned: no process, or a zombie that
    // the machine's init has yet to reap (it runs nothing and holds no memory).
    const alive = (() => {
      try {
        const state = readFileSync(`/proc/${pid}/stat`, "utf8").replace(/^.*\) /s, "")[0];
        return state !== "Z" && state !== "X";
      } catch {
        return false;
      }
    })();
    expect(alive).toBe(false);
  });
});

describe("usage errors exit 2", () => {
  it("names the file, pointer, line and fix of a bad budget file", () => {
    const dir = project(
      '{\n  "scenarios": {\n    "a": { "run": "true", "budget": { "peakheap": "64 megs" } }\n  }\n}\n',
    );
    const r = membudget(dir, "validate");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('membudget.json:3:39 at /scenarios/a/budget/peakheap: unknown key "peakheap"');
    expect(r.stderr).toContain('fix: did you mean "peakHeap"?');
    expect(membudget(dir, "run").code).toBe(2);
  });

  it("validates a good file, and rejects unknown scenarios and commands", () => {
    const dir = project({ scenarios: { a: { run: "python3 a.py" }, b: { run: "node b.js" } } });
    const ok = membudget(dir, "validate");
    expect(ok.code).toBe(0);
    expect(ok.stdout).toBe("membudget.json: valid, 2 scenarios (a [python], b [node])\n");
    const only = membudget(dir, "run", "--only", "c");
    expect(only.code).toBe(2);
    expect(only.stderr).toContain('no scenario named "c"; the budget file has: a, b');
    expect(membudget(dir, "frobnicate").code).toBe(2);
    expect(membudget(dir, "run", "--budgets", "missing.json").stderr).toContain(
      "cannot read the budget file (ENOENT)",
    );
  });

  it("refuses a file that is not a membudget report, and a report from a newer membudget", () => {
    const dir = project({ scenarios: { a: { run: "true" } } });
    writeFileSync(join(dir, "other.json"), JSON.stringify({ version: 1, results: [] }));
    const r = membudget(dir, "compare", "other.json", "other.json");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("other.json:1:1 at /tool/name: not a membudget report");
    writeFileSync(join(dir, "future.json"), JSON.stringify({ version: 99, tool: { name: "membudget" } }));
    expect(membudget(dir, "run", "--base", "future.json").stderr).toContain(
      "report version 99 is newer than this membudget understands (1)",
    );
  });

  it("prints help with examples for every command", () => {
    for (const command of ["run", "validate", "check", "compare", "update", "merge"]) {
      const r = membudget(tmpdir(), command, "--help");
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("Examples:");
    }
  });
});

describe("on the machine's own Node.js", () => {
  // The tests run on Node 24 (the Action's runtime); the CLI must also work on the Node 20 that
  // many machines have. Run the bundle with the system's node when it is another version.
  const system = spawnSync("/usr/bin/node", ["--version"], { encoding: "utf8" });
  const other = system.status === 0 && system.stdout.trim() !== process.version;
  it.skipIf(!other)(`runs a scenario with ${system.stdout?.trim() || "the system node"}`, () => {
    const dir = project({
      scenarios: { hold: { run: hold(10), repeat: 1, budget: { peakHeap: "16 MiB" } } },
    });
    const r = spawnSync("/usr/bin/node", [CLI, "run", "--report", "r.json"], {
      cwd: dir,
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1" },
    });
    expect(r.status, r.stderr).toBe(0);
    const report = readReport(join(dir, "r.json"));
    expect(report.environment.node).toBe(system.stdout.trim().slice(1));
    expect(Math.abs(report.scenarios[0]!.metrics.peakHeap!.value - 10 * MiB) / (10 * MiB)).toBeLessThan(0.01);
  });
});

describe("however the workload starts Python", () => {
  it("measures python -m, a shell script that starts Python, and a test runner (unittest)", () => {
    const dir = project({
      defaults: { repeat: 1 },
      scenarios: {
        module: { run: "python3 -m holder 30" },
        script: { run: "sh ./run.sh", runtime: "python" },
        tests: { run: "python3 -m unittest -q test_holder" },
      },
    });
    writeFileSync(join(dir, "holder.py"), readFileSync(join(WORKLOADS, "hold.py")));
    writeFileSync(join(dir, "run.sh"), `echo starting\npython3 ${WORKLOADS}/hold.py 30\necho done\n`);
    writeFileSync(
      join(dir, "test_holder.py"),
      "import unittest\n\nclass T(unittest.TestCase):\n    def test_hold(self):\n        block = bytearray(30 * 1024 * 1024)\n        self.assertEqual(len(block), 30 * 1024 * 1024)\n",
    );
    const r = membudget(dir, "run", "--report", "r.json");
    expect(r.code, r.stderr).toBe(0);
    const report = readReport(join(dir, "r.json"));
    const peak = (name: string) =>
      report.scenarios.find((s) => s.name === name)?.metrics.peakHeap?.value ?? 0;
    for (const name of ["module", "script"]) {
      expect(Math.abs(peak(name) - 30 * MiB) / (30 * MiB), name).toBeLessThan(0.02);
    }
    // A test runner's own modules are part of the process's heap: 30 MiB plus unittest's few MiB.
    expect(peak("tests")).toBeGreaterThan(30 * MiB);
    expect(peak("tests")).toBeLessThan(36 * MiB);
  });
});

describe("however the workload starts Node.js", () => {
  it("counts the script that `npm run` starts, not npm itself", () => {
    const dir = project({
      defaults: { repeat: 1 },
      scenarios: { viaNpm: { run: "npm run -s hold" }, direct: { run: "node hold.js" } },
    });
    writeFileSync(
      join(dir, "package.json"),
      JSON.stringify({ name: "t", private: true, scripts: { hold: "node hold.js" } }),
    );
    // 50 arrays of 100,000 numbers kept alive: the same program either way.
    writeFileSync(
      join(dir, "hold.js"),
      "const a = []; for (let i = 0; i < 50; i++) a.push(new Array(100000).fill(i + 0.5));\n",
    );
    const r = membudget(dir, "run", "--report", "r.json");
    expect(r.code, r.stderr).toBe(0);
    const report = readReport(join(dir, "r.json"));
    const figures = (name: string) => report.scenarios.find((s) => s.name === name)!;
    expect(figures("viaNpm").runs[0]?.processes).toBe(1);
    const viaNpm = figures("viaNpm").metrics.allocated!.value;
    const direct = figures("direct").metrics.allocated!.value;
    expect(Math.abs(viaNpm - direct) / direct).toBeLessThan(0.05);
  });
});
