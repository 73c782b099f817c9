// What a sandbox may forbid rsswrap, simulated by strace failing the system call. No FIFO can be
// made in the temporary directory (a file system without them, a sandbox that forbids mknod):
// rsswrap says so, the run starts again with plain pipes, and the workload's output and figures are
// there as usual. rsswrap cannot become a subreaper: the run measures, and says what it cannot see.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { readReport } from "../../src/report/io.js";

const CLI = resolve("dist/cli.js");

/** `membudget run -v` in `dir`, with `syscall` failing with EPERM (`when`: which calls, per process). */
function failing(syscall: string, dir: string, when = "") {
  const inject = `inject=${syscall}:error=EPERM${when ? `:when=${when}` : ""}`;
  return spawnSync(
    "strace",
    [
      "-f",
      "-qq",
      "-o",
      "/dev/null",
      "-e",
      `trace=${syscall}`,
      "-e",
      inject,
      process.execPath,
      CLI,
      "run",
      "-v",
      "--report",
      "r.json",
    ],
    { cwd: dir, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" }, timeout: 60_000 },
  );
}

describe("no FIFOs in the temporary directory", () => {
  it("runs the workload through plain pipes, with its output and figures", () => {
    const dir = mkdtempSync(join(tmpdir(), "mb-nofifo-"));
    writeFileSync(
      join(dir, "membudget.json"),
      JSON.stringify({
        scenarios: {
          talk: {
            run: "echo to-stdout; echo to-stderr >&2; exit 4",
            repeat: 1,
            budget: { peakHeap: "1 GiB" },
          },
          fine: { run: "python3 -c pass", repeat: 1, budget: { peakHeap: "1 GiB" } },
        },
      }),
    );
    const r = failing("mknodat", dir);
    expect(r.error).toBeUndefined();
    // The workload ran once, and its own words came through; exit 4 is its failure, reported as such.
    expect(r.stdout.match(/to-stdout/g)?.length, r.stdout + r.stderr).toBe(1);
    expect(r.stderr).toContain("to-stderr");
    expect(r.stdout + r.stderr).not.toMatch(/output pipes/);
    expect(r.status).toBe(3);
    const [talk, fine] = readReport(join(dir, "r.json")).scenarios;
    expect(talk!.status).toBe("error");
    expect(talk!.reason).toContain("exited with code 4");
    expect(fine!.status).toBe("pass");
    expect(fine!.metrics.peakHeap?.value).toBeGreaterThan(0);
  });
});

describe("rsswrap cannot become a subreaper", () => {
  it("measures, and says in the output and the report what it cannot see", () => {
    const dir = mkdtempSync(join(tmpdir(), "mb-nosubreaper-"));
    writeFileSync(
      join(dir, "membudget.json"),
      JSON.stringify({
        scenarios: { fine: { run: "python3 -c pass", repeat: 1, budget: { peakRss: "1 GiB" } } },
      }),
    );
    // Each process's first prctl fails: rsswrap's is PR_SET_CHILD_SUBREAPER (Node.js's threads
    // naming themselves and the shell's PR_SET_PDEATHSIG carry on without theirs).
    const r = failing("prctl", dir, "1");
    expect(r.error).toBeUndefined();
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toContain("rsswrap: PR_SET_CHILD_SUBREAPER failed: Operation not permitted");
    const report = readReport(join(dir, "r.json"));
    const fine = report.scenarios[0]!;
    expect(fine.status).toBe("pass");
    expect(fine.metrics.peakRss?.value).toBeGreaterThan(1024 * 1024);
    expect(report.notes).toContain(
      "rsswrap could not adopt orphaned processes (PR_SET_CHILD_SUBREAPER: Operation not permitted): " +
        "peakRss and the check for processes left running see only those whose parents wait for them",
    );
  });
});
