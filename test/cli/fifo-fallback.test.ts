// A temporary directory where no FIFO can be made (a file system without them, a sandbox that
// forbids mknod), simulated by strace failing every mknodat: rsswrap says so, the run starts again
// with plain pipes, and the workload's output and figures are there as usual.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { readReport } from "../../src/report/io.js";

const CLI = resolve("dist/cli.js");

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
    const r = spawnSync(
      "strace",
      [
        "-f",
        "-qq",
        "-o",
        "/dev/null",
        "-e",
        "trace=mknodat",
        "-e",
        "inject=mknodat:error=EPERM",
        process.execPath,
        CLI,
        "run",
        "-v",
        "--report",
        "r.json",
      ],
      { cwd: dir, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" }, timeout: 60_000 },
    );
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
