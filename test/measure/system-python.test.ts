// The allocation probe on the distribution's own Python: Debian's /usr/bin/python3 is a non-PIE
// executable (as Ubuntu's, on runners without setup-python), whose exported PLT stub for malloc
// once made the interposer believe another allocator came first. Referee: valgrind DHAT.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { mergeProcessFigures, probeEnv, readProbeFiles } from "../../src/measure/probes.js";

const SYSTEM_PYTHON = "/usr/bin/python3";
const WORKLOADS = fileURLToPath(new URL("../fixtures/workloads/python/", import.meta.url));
const MiB = 1024 * 1024;
// Python under valgrind, twice: a loaded 2-core machine takes it close to 180 s.
const SLOW = 400_000;

const scratch = mkdtempSync(join(tmpdir(), "membudget-system-python-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** The user's environment, without anything a probe or a Python manager sets. */
function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) {
    if (key.startsWith("MEMBUDGET_") || key.startsWith("PYENV") || key.startsWith("PYTHON")) delete env[key];
  }
  delete env["LD_PRELOAD"];
  return env;
}

let runs = 0;

function probed(args: string[]) {
  const outDir = join(scratch, `run-${++runs}`);
  mkdirSync(outDir);
  const base = userEnv();
  const probe = probeEnv("python", outDir, base);
  expect(probe.notes).toEqual([]);
  const result = spawnSync(SYSTEM_PYTHON, args, {
    cwd: WORKLOADS,
    env: { ...base, ...probe.env },
    encoding: "utf8",
  });
  expect(result.stderr).toBe("");
  expect(result.status).toBe(0);
  const problems: string[] = [];
  const files = readProbeFiles(outDir, (message) => problems.push(message));
  expect(problems).toEqual([]);
  return { files, merged: mergeProcessFigures(files, "python") };
}

/** DHAT's totals for the real interpreter under PYTHONMALLOC=malloc (DHAT sees Python's objects only then). */
function dhat(args: string[]): { allocated: number; allocations: number } {
  const result = spawnSync("valgrind", ["--tool=dhat", "--dhat-out-file=/dev/null", SYSTEM_PYTHON, ...args], {
    cwd: WORKLOADS,
    env: { ...userEnv(), PYTHONMALLOC: "malloc" },
    encoding: "utf8",
  });
  if (result.error)
    throw new Error(`valgrind not runnable (apt-get install valgrind): ${result.error.message}`);
  const total = /Total:\s+([\d,]+) bytes in ([\d,]+) blocks/.exec(result.stderr);
  expect(result.status, result.stderr.slice(-2000)).toBe(0);
  expect(total, result.stderr.slice(-2000)).not.toBeNull();
  const num = (text: string | undefined) => Number((text ?? "").replace(/,/g, ""));
  return { allocated: num(total?.[1]), allocations: num(total?.[2]) };
}

function within(actual: number | undefined, expected: number, fraction: number): void {
  expect(actual).toBeTypeOf("number");
  expect(Math.abs((actual as number) - expected)).toBeLessThanOrEqual(expected * fraction);
}

describe.skipIf(!existsSync(SYSTEM_PYTHON))(`the allocation probe on ${SYSTEM_PYTHON}`, () => {
  it("serves malloc in the distribution's Python and gives allocated and allocations", () => {
    const { files, merged } = probed(["hold_bytearray.py"]);
    const malloc = files.find((f) => f.probe === "malloc");
    expect(malloc?.extra?.["unavailable"]).toBeUndefined();
    const python = files.find((f) => f.probe === "python");
    expect(python?.extra?.["interposer"]).toBe(true);
    expect(merged.figures.allocated).toBeGreaterThanOrEqual(100 * MiB);
    expect(merged.figures.allocations).toBeGreaterThan(0);
    within(merged.figures.peakHeap, 100 * MiB, 0.01);
  });

  it(
    "agrees with DHAT within 1 % on what a loop allocates",
    () => {
      // The difference between two lengths of one loop cancels start-up and teardown, which the
      // probe leaves out and DHAT counts.
      const [small, large] = ["2000", "12000"];
      const ours = [small, large].map((n) => probed(["churn.py", n]).merged.figures);
      const referee = [small, large].map((n) => dhat(["churn.py", n]));
      const oursAllocated = (ours[1]?.allocated ?? Number.NaN) - (ours[0]?.allocated ?? Number.NaN);
      const dhatAllocated = (referee[1]?.allocated ?? Number.NaN) - (referee[0]?.allocated ?? Number.NaN);
      expect(dhatAllocated).toBeGreaterThan(1_000_000);
      within(oursAllocated, dhatAllocated, 0.01);
      const oursCount = (ours[1]?.allocations ?? Number.NaN) - (ours[0]?.allocations ?? Number.NaN);
      const dhatCount = (referee[1]?.allocations ?? Number.NaN) - (referee[0]?.allocations ?? Number.NaN);
      within(oursCount, dhatCount, 0.01);
    },
    SLOW,
  );
});
