// `membudget update` writes budgets that hold: the next runs of the same code pass, noisy figures
// (RSS, Node.js's sampled heap) included. Timings are left out: the tests never assert on them.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { expect, it } from "vitest";

const CLI = resolve("dist/cli.js");
const WORKLOADS = resolve("test/fixtures/workloads");

function membudget(
  cwd: string,
  ...args: string[]
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, NO_COLOR: "1" } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("close", (code) => done({ code, stdout, stderr }));
  });
}

it("update, then twenty runs of the same code: every one passes", { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), "mb-update-"));
  // Budgets far below the figures: update must raise every one of them.
  writeFileSync(
    join(dir, "membudget.json"),
    JSON.stringify({
      defaults: { repeat: 2 },
      scenarios: {
        py: {
          run: `python3 ${WORKLOADS}/python/churn.py 20000`,
          budget: { peakHeap: 1, allocated: 1, allocations: 1, peakRss: 1, peakPss: 1 },
        },
        js: {
          run: `node ${WORKLOADS}/node/allocate.js 20`,
          budget: { peakHeap: 1, allocated: 1, peakRss: 1, peakPss: 1 },
        },
      },
    }),
  );
  const update = await membudget(dir, "update", "--headroom", "0%");
  expect(update.code, update.stderr).toBe(0);
  expect(update.stdout).toContain("9 budgets written");
  const file = readFileSync(join(dir, "membudget.json"), "utf8");
  const runs: { code: number | null; stdout: string }[] = [];
  // Two at a time: a busier machine than the update saw, as the next CI job's may be.
  for (let i = 0; i < 20; i += 2)
    runs.push(...(await Promise.all([membudget(dir, "run"), membudget(dir, "run")])));
  const failed = runs.filter((r) => r.code !== 0).map((r) => r.stdout);
  expect(failed, `budgets written:\n${file}`).toEqual([]);
});
