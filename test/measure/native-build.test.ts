// The native helpers on a machine that has none built yet (a hosted runner, in every job): both are
// compiled at once, before the first workload, and the run measures with them. The compiler is the
// machine's cc behind a script that logs when each compile starts and ends.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parsePlan } from "../../src/config/plan.js";
import { select } from "../../src/config/select.js";
import { runPlan } from "../../src/engine/engine.js";
import type { Report } from "../../src/model/report.js";
import { restoreEnvAfterAll } from "../helpers/env.js";

const CLI = resolve("dist/cli.js");
const WORKLOADS = fileURLToPath(new URL("../fixtures/workloads/python/", import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), "membudget-native-build-"));
const log = join(scratch, "cc.log");
restoreEnvAfterAll(["CC", "MEMBUDGET_CACHE_DIR"]);

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** A cc that logs "start <output>" and "end <output>" around the real one. */
function loggingCc(): string {
  const file = join(scratch, "logging-cc");
  writeFileSync(
    file,
    [
      "#!/bin/sh",
      'out=""; prev=""',
      'for a in "$@"; do [ "$prev" = "-o" ] && out=$(basename "$a"); prev=$a; done',
      `echo "start $out" >> '${log}'`,
      'cc "$@"; status=$?',
      `echo "end $out" >> '${log}'`,
      "exit $status",
      "",
    ].join("\n"),
  );
  chmodSync(file, 0o755);
  return file;
}

describe("the native helpers on a fresh machine", () => {
  let report: Report;
  beforeAll(async () => {
    // Read when the helpers are first built: this file's module instance has built none yet.
    process.env["CC"] = loggingCc();
    process.env["MEMBUDGET_CACHE_DIR"] = join(scratch, "cache");
    const file = join(scratch, "membudget.json");
    const text = JSON.stringify({
      scenarios: {
        loop: {
          run: "python3 churn.py 20000",
          cwd: WORKLOADS,
          repeat: 1,
          sites: "never",
          cleanRun: "always",
        },
      },
    });
    writeFileSync(file, text);
    report = await runPlan({ selection: select(parsePlan(text, file, file)) });
  }, 120_000);

  it("compiles rsswrap and the interposer at the same time, each once", () => {
    const lines = readFileSync(log, "utf8").trim().split("\n");
    expect(lines).toHaveLength(4);
    // Both started before either ended.
    expect(lines.slice(0, 2).every((l) => l.startsWith("start "))).toBe(true);
    expect(lines.map((l) => l.split(" ")[1]!.replace(/\.\d+\.tmp$/, "")).sort()).toEqual([
      "libmbmalloc.so",
      "libmbmalloc.so",
      "rsswrap",
      "rsswrap",
    ]);
  });

  it("measures with both: the interposer's totals and, in the clean run, the wrapper's exact peak RSS", () => {
    const loop = report.scenarios[0]!;
    expect(loop.status).toBe("pass");
    expect(loop.metrics.allocated?.value).toBeGreaterThan(0);
    expect(loop.metrics.peakRss?.value).toBeGreaterThan(0);
    for (const metric of ["allocated", "allocations", "peakRss"] as const) {
      expect(loop.unavailable?.[metric]).toBeUndefined();
    }
    expect(report.notes?.join("\n") ?? "").not.toMatch(/rsswrap|unavailable/);
  });
});

describe("the native helpers built from wherever membudget is started", () => {
  it("come from membudget's own sources, not from C files of the same names in the working directory", () => {
    // The compiler reads one translation unit on stdin that includes the helper's files by name;
    // run where the user is, it would take these first (and cache them as the helpers).
    const here = mkdtempSync(join(scratch, "project-"));
    for (const file of ["rsswrap.c", "mbmalloc.c", "mbmalloc-live.c", "mbmalloc-python.c"]) {
      writeFileSync(join(here, file), '#error "the project\'s own file"\n');
    }
    writeFileSync(
      join(here, "membudget.json"),
      JSON.stringify({ scenarios: { c: { run: "ls /", runtime: "native", repeat: 1, cleanRun: "always" } } }),
    );
    const r = spawnSync(process.execPath, [CLI, "run", "--budgets", "membudget.json", "--report", "r.json"], {
      cwd: here,
      // A relative cache folder too: it is the working directory's, whatever folder cc runs in.
      env: { ...process.env, CC: "cc", MEMBUDGET_CACHE_DIR: "cache" },
      encoding: "utf8",
    });
    expect(r.stderr).not.toMatch(/could not build|project's own file/);
    expect(r.status).toBe(0);
    const scenario = JSON.parse(readFileSync(join(here, "r.json"), "utf8")).scenarios[0];
    expect(scenario.metrics.allocations.value).toBeGreaterThan(0);
    expect(scenario.metrics.peakRss.value).toBeGreaterThan(0);
    expect(readdirSync(join(here, "cache")).length).toBeGreaterThan(0);
  });
});
