// Hostile workloads through `node dist/cli.js run`: a daemon left behind does not hold the run to its
// timeout and is named (issue 10, item 3); nothing outlives a membudget killed with SIGKILL (item 4).
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runOnce } from "../../src/measure/process/run.js";
import { readReport } from "../../src/report/io.js";

const CLI = resolve("dist/cli.js");
const HOSTILE = resolve("test/fixtures/workloads/hostile");

/** The pids of live processes whose command line holds `marker` (rsswrap's holds the command too). */
function processesWith(marker: string): { pid: number; command: string }[] {
  const r = spawnSync("ps", ["-eo", "pid=,stat=,args="], { encoding: "utf8" });
  return r.stdout
    .split("\n")
    .map((line) => line.trim().match(/^(\d+)\s+(\S+)\s+(.*)$/))
    .filter((m): m is RegExpMatchArray => m !== null && !m[2]!.startsWith("Z") && m[3]!.includes(marker))
    .filter((m) => !m[3]!.startsWith("ps "))
    .map((m) => ({ pid: Number(m[1]), command: m[3]! }));
}

const markers: string[] = [];
afterEach(() => {
  // A failing test must not leave its hostile processes on the machine either.
  for (const marker of markers.splice(0))
    for (const p of processesWith(marker)) process.kill(p.pid, "SIGKILL");
});

function newMarker(): string {
  const marker = `mbhostile${process.pid}x${Math.random().toString(36).slice(2, 10)}`;
  markers.push(marker);
  return marker;
}

async function until(what: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (what()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return what();
}

describe("a daemon left behind (item 3)", () => {
  it("ends the run when the command exits, stops what it left and names it in the output and the report", () => {
    const dir = mkdtempSync(join(tmpdir(), "mb-daemon-"));
    const marker = newMarker();
    writeFileSync(
      join(dir, "membudget.json"),
      JSON.stringify({
        scenarios: {
          daemon: {
            run: `sh ${HOSTILE}/daemon.sh ${dir} ${marker}`,
            runtime: "native",
            repeat: 1,
            timeout: "5m",
          },
        },
      }),
    );
    const begun = Date.now();
    const r = spawnSync(process.execPath, [CLI, "run", "--report", "r.json"], {
      cwd: dir,
      encoding: "utf8",
      env: { ...process.env, NO_COLOR: "1" },
      timeout: 120_000,
    });
    const elapsed = Date.now() - begun;
    // Not "timed out" after 5 minutes: the command's exit ended the run; the grace (5 s) for the
    // process that ignores SIGTERM is what it costs, per run.
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).not.toContain("timed out");
    expect(elapsed).toBeLessThan(60_000);
    // The last run's pair (one repeat is two runs: the probed one and a clean one); each run's note names its own.
    const daemon = Number(readFileSync(join(dir, "daemon.pid"), "utf8"));
    const stubborn = Number(readFileSync(join(dir, "stubborn.pid"), "utf8"));
    const named = new RegExp(
      `left 2 processes running when it ended: pid (${daemon}|${stubborn}) \`[^\`]*${marker}-(daemon|stubborn)[^\`]*\`, pid (${daemon}|${stubborn}) \`[^\`]*${marker}-(daemon|stubborn)[^\`]*\`; stopped them with SIGTERM, then SIGKILL after the 5 s grace`,
    );
    // In the output (the terminal's notes, a line of at most 500 characters: the temporary paths
    // can push the end past it) and, whole, in the report.
    expect(r.stdout).toMatch(new RegExp(named.source.slice(0, named.source.indexOf("; stopped them"))));
    const report = readReport(join(dir, "r.json"));
    expect(
      report.notes?.some((n) => named.test(n)),
      JSON.stringify(report.notes),
    ).toBe(true);
    expect(report.scenarios[0]!.status).toBe("pass");
    // The stopped pair never wrote their heap figures: the heap figures are said to be incomplete,
    // naming both and why, never a figure without them.
    const why = new RegExp(
      `incomplete: process (${daemon}|${stubborn}) \\(python[^,)]*, stopped by membudget\\) left no figures \\(it was still running, and stopped before it could write them\\); process (${daemon}|${stubborn})`,
    );
    expect(r.stdout).toMatch(
      new RegExp(`peak heap, allocated, allocations, allocation rate unavailable: ${why.source}`),
    );
    expect(report.scenarios[0]!.metrics.peakHeap).toBeUndefined();
    expect(report.scenarios[0]!.unavailable?.peakHeap).toMatch(why);
    // And they are gone.
    expect(processesWith(marker)).toEqual([]);
  });

  it("without rsswrap too, what the shell left in its group is stopped and named", async () => {
    const marker = newMarker();
    const begun = Date.now();
    const outcome = await runOnce({
      command: `sleep 600 & exec sh -c 'echo ${marker}'`,
      cwd: tmpdir(),
      env: process.env,
      timeoutMs: 300_000,
      graceMs: 500,
      useRsswrap: false,
    });
    expect(outcome.error).toBeUndefined();
    expect(Date.now() - begun).toBeLessThan(20_000);
    expect(outcome.notes.join("\n")).toMatch(
      /left 1 process running when it ended: pid \d+ `sleep 600`; stopped it with SIGTERM/,
    );
  });

  it("an orphan that finishes within the settle time is measured, not stopped or named", async () => {
    const outcome = await runOnce({
      command: `( sleep 0.3 & ) ; true`,
      cwd: tmpdir(),
      env: process.env,
      timeoutMs: 60_000,
    });
    expect(outcome.error).toBeUndefined();
    expect(outcome.notes.join("\n")).not.toContain("left");
  });
});

describe("nothing outlives membudget (item 4)", () => {
  it("kill -9 of membudget takes the workload, its setsid child and rsswrap down within the grace", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mb-orphaned-"));
    const marker = newMarker();
    writeFileSync(
      join(dir, "membudget.json"),
      JSON.stringify({
        scenarios: {
          stubborn: {
            run: `sh ${HOSTILE}/stubborn.sh ${dir} ${marker}`,
            runtime: "native",
            repeat: 1,
            timeout: "5m",
          },
        },
      }),
    );
    const child = spawn(process.execPath, [CLI, "run"], {
      cwd: dir,
      env: { ...process.env, NO_COLOR: "1" },
      stdio: "ignore",
    });
    const exited = new Promise((r) => child.once("exit", r));
    expect(await until(() => existsSync(join(dir, "main.pid")), 30_000)).toBe(true);
    const before = processesWith(marker);
    // rsswrap, the shell, the main python and its setsid child.
    expect(
      before.some((p) => p.command.includes("rsswrap")),
      JSON.stringify(before),
    ).toBe(true);
    expect(before.some((p) => p.command.includes(`${marker}-child`))).toBe(true);
    expect(before.some((p) => p.command.includes(`${marker}-main`))).toBe(true);
    child.kill("SIGKILL");
    await exited;
    // SIGTERM at once (ignored by all of them), SIGKILL after rsswrap's 5 s grace.
    expect(
      await until(() => processesWith(marker).length === 0, 15_000),
      JSON.stringify(processesWith(marker)),
    ).toBe(true);
  });
});
