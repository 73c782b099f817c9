// The temporary file of an atomic write that a kill -9 left behind is removed by the next write of
// the same file, once its writer is dead; a live writer's is left alone (issue 28, item 7).
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { writeTextFile } from "../../src/report/write.js";

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The pid of a real process that was killed with SIGKILL and has exited. */
async function deadPid(): Promise<number> {
  const child = spawn("sleep", ["60"], { stdio: "ignore" });
  await new Promise((resolve) => child.once("spawn", resolve));
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGKILL");
  await exited;
  return child.pid!;
}

it("removes a killed writer's <file>.<pid>.tmp and keeps a live one's and other files", async () => {
  dir = mkdtempSync(join(tmpdir(), "mb-write-"));
  const file = join(dir, "membudget-report.json");
  const dead = await deadPid();
  const live = spawn("sleep", ["60"], { stdio: "ignore" });
  try {
    const orphan = `membudget-report.json.${dead}.tmp`;
    const busy = `membudget-report.json.${live.pid}.tmp`;
    // 4 MiB, as a large report's temporary file is.
    writeFileSync(join(dir, orphan), Buffer.alloc(4 << 20));
    writeFileSync(join(dir, busy), "being written");
    writeFileSync(join(dir, `other.json.${dead}.tmp`), "another file's");
    writeFileSync(join(dir, "membudget-report.json.notes.tmp"), "not a pid");

    writeTextFile(file, "{}\n");

    expect(readdirSync(dir).sort()).toEqual(
      [busy, "membudget-report.json", "membudget-report.json.notes.tmp", `other.json.${dead}.tmp`].sort(),
    );
    expect(existsSync(join(dir, orphan))).toBe(false);
  } finally {
    live.kill("SIGKILL");
  }
});
