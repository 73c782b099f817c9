// Shards on the command line: `run --shard i/3` on seven real Python scenarios, then `merge`.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import type { Report } from "../../src/model/report.js";
import { readReport } from "../../src/report/io.js";

const CLI = resolve("dist/cli.js");
const HOLD = resolve("test/fixtures/workloads/cli/hold.py");
const MiB = 1024 * 1024;
const NAMES = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf"];

function membudget(cwd: string, ...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
    timeout: 120_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A budget file of the seven scenarios, each holding `mib(name)` MiB; echo's budget is too small. */
function budgets(dir: string, file: string, order: string[], mib: (name: string) => number): void {
  const scenarios = Object.fromEntries(
    order.map((name) => [
      name,
      {
        run: `python3 ${HOLD} ${mib(name)}`,
        repeat: 1,
        // No attribution run: the split and the merge are under test, not the sites.
        sites: "never",
        budget: { peakHeap: name === "echo" ? "4 MiB" : "64 MiB" },
      },
    ]),
  );
  writeFileSync(join(dir, file), JSON.stringify({ scenarios }, null, 2));
}

const size = (name: string) => 2 + NAMES.indexOf(name);
const measured = (r: Report) => r.scenarios.filter((s) => s.status !== "removed").map((s) => s.name);

describe("run --shard i/n and merge", () => {
  it("splits seven scenarios into three disjoint, complete, non-empty shards, the same every time; merge judges them as one", () => {
    const dir = mkdtempSync(join(tmpdir(), "mb-shard-"));
    // The base's budget file lists the scenarios in another order with other sizes: the split depends
    // on the names alone, so the base side measures the same scenarios in each shard.
    budgets(dir, "base.json", [...NAMES].reverse(), () => 2);
    budgets(dir, "membudget.json", NAMES, size);
    const base = membudget(
      dir,
      "run",
      "-b",
      "base.json",
      "--report",
      "base-report.json",
      "--fail-on",
      "never",
    );
    expect(base.code, base.stderr).toBe(0);

    const shards: Report[] = [];
    for (const i of [1, 2, 3]) {
      const r = membudget(
        dir,
        "run",
        "--shard",
        `${i}/3`,
        "--base",
        "base-report.json",
        "--report",
        `shard-${i}.json`,
      );
      const report = readReport(join(dir, `shard-${i}.json`));
      // Only the shard holding echo breaks a budget.
      expect(r.code, r.stderr).toBe(measured(report).includes("echo") ? 1 : 0);
      shards.push(report);
    }
    const parts = shards.map(measured);
    for (const p of parts) expect(p.length).toBeGreaterThan(0);
    expect(parts.flat().sort()).toEqual([...NAMES].sort());
    expect(new Set(parts.flat()).size).toBe(7);
    // Judged against a whole base report, no shard calls the others' scenarios removed.
    for (const s of shards) expect(s.scenarios.every((x) => x.status !== "removed")).toBe(true);
    expect(shards[0]!.shard).toMatchObject({ index: 1, total: 3, selected: NAMES });
    // The budget file's SHA-256, the same in every shard (worked out while the first workload ran).
    const sha256 = createHash("sha256")
      .update(readFileSync(join(dir, "membudget.json")))
      .digest("hex");
    for (const s of shards) expect(s.budgetDigest).toBe(`sha256:${sha256}`);

    for (const i of [1, 2, 3]) {
      // A second run, and the base's budget file: the same scenarios in shard i.
      const again = membudget(
        dir,
        "run",
        "--shard",
        `${i}/3`,
        "--report",
        `again-${i}.json`,
        "--fail-on",
        "never",
      );
      expect(again.code, again.stderr).toBe(0);
      expect(measured(readReport(join(dir, `again-${i}.json`)))).toEqual(parts[i - 1]);
      const atBase = membudget(
        dir,
        "run",
        "-b",
        "base.json",
        "--shard",
        `${i}/3`,
        "--report",
        `base-${i}.json`,
      );
      expect(atBase.code, atBase.stderr).toBe(0);
      expect(measured(readReport(join(dir, `base-${i}.json`))).sort()).toEqual([...parts[i - 1]!].sort());
    }

    const all = membudget(
      dir,
      "merge",
      "shard-1.json",
      "shard-2.json",
      "shard-3.json",
      "-o",
      "all.json",
      "--markdown",
      "all.md",
    );
    expect(all.code, all.stderr).toBe(1);
    const merged = readReport(join(dir, "all.json"));
    expect(merged.scenarios.map((s) => s.name)).toEqual(NAMES);
    // bravo…golf grew from the base's 2 MiB: regressions survive the merge.
    expect(merged.summary).toBe("1 of 7 scenarios over budget, 5 regressed");
    expect(merged.scenarios.find((s) => s.name === "echo")?.status).toBe("over");
    // Each scenario keeps the judgement its shard gave it: every head figure still has its base.
    for (const s of merged.scenarios) {
      expect(s.metrics.peakHeap?.base?.value).toBeCloseTo(2 * MiB, -5);
      expect(s.metrics.peakHeap?.value).toBeCloseTo(size(s.name) * MiB, -5);
    }
    expect(all.stdout).toContain("1 of 7 scenarios over budget, 5 regressed");

    const two = membudget(dir, "merge", "shard-1.json", "shard-3.json", "-o", "two.json");
    expect(two.code).toBe(3);
    expect(two.stdout).toContain("Shard 2 of 3: no report");
    expect(readReport(join(dir, "two.json")).error).toBe("shard 2 of 3: no report");
    // Merged again (the issue's `merge m1.json`), the lost shard stays an error, never green.
    const again = membudget(dir, "merge", "two.json", "-o", "again.json");
    expect(again.code).toBe(3);
    expect(again.stdout).toContain("Shard 2 of 3: no report");
    expect(readReport(join(dir, "again.json")).error).toBe("shard 2 of 3: no report");

    const twice = membudget(
      dir,
      "merge",
      "shard-1.json",
      "shard-2.json",
      "again-2.json",
      "shard-3.json",
      "-o",
      "x.json",
    );
    expect(twice.code).toBe(2);
    expect(twice.stderr).toContain("shard 2 of 3 twice: shard-2.json and again-2.json");
    const mixed = membudget(dir, "merge", "shard-1.json", "base-2.json", "shard-3.json", "-o", "x.json");
    expect(mixed.code).toBe(2);
    expect(mixed.stderr).toContain("the budget files' digests differ");
  });

  it("refuses a shard that does not exist, and --balance without --shard", () => {
    const dir = mkdtempSync(join(tmpdir(), "mb-shard-"));
    budgets(dir, "membudget.json", NAMES, size);
    const r = membudget(dir, "run", "--shard", "4/3");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--shard is "4/3": shard 4 of 3 does not exist');
    const b = membudget(dir, "run", "--balance", "x.json");
    expect(b.code).toBe(2);
    expect(b.stderr).toContain("--balance needs --shard i/n");
  });
});
