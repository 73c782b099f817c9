// A disk that fills up or is read-only, under `node dist/cli.js`: the table is printed first, no
// `*.tmp` is left, the message names the path and the errno, and the exit status is 2 (issue 10,
// item 7). The small file systems are real: a 16 KiB tmpfs and a read-only tmpfs, mounted in a
// mount namespace of the test's own (unshare), so nothing on the machine changes.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { writeReport } from "../../src/report/io.js";
import { MiB, report } from "../helpers/reports.js";

const CLI = resolve("dist/cli.js");

/** Whether this machine lets a process mount a tmpfs in a namespace of its own. */
const CAN_MOUNT =
  spawnSync(
    "unshare",
    ["-rm", "sh", "-c", "d=$(mktemp -d) && mount -t tmpfs -o size=16k tmpfs $d && umount $d"],
    {
      encoding: "utf8",
    },
  ).status === 0;

/**
 * Runs membudget in `dir` with `dir/full` a 16 KiB tmpfs already filled up (ENOSPC) and `dir/ro` a
 * read-only tmpfs (EROFS); returns what it printed and what the mounts held when it was done.
 */
function withSmallDisks(dir: string, args: string[]) {
  mkdirSync(join(dir, "full"), { recursive: true });
  mkdirSync(join(dir, "ro"), { recursive: true });
  const script = [
    "set -e",
    "mount -t tmpfs -o size=16k tmpfs full",
    // Fill it, so that not even a small file fits.
    "head -c 1048576 /dev/zero > full/filler 2>/dev/null || true",
    "mount -t tmpfs -o ro,size=16k tmpfs ro",
    `"$0" "$@" > stdout.txt 2> stderr.txt || echo $? > status.txt`,
    "[ -f status.txt ] || echo 0 > status.txt",
    "ls -a full ro > listing.txt",
  ].join("\n");
  const r = spawnSync("unshare", ["-rm", "sh", "-c", script, process.execPath, CLI, ...args], {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
    timeout: 120_000,
  });
  if (r.status !== 0) throw new Error(`the namespace failed: ${r.stderr}`);
  const read = (f: string) => spawnSync("cat", [join(dir, f)], { encoding: "utf8" }).stdout;
  return {
    status: Number(read("status.txt").trim()),
    stdout: read("stdout.txt"),
    stderr: read("stderr.txt"),
    listing: read("listing.txt"),
  };
}

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), "mb-full-"));
  writeFileSync(
    join(dir, "membudget.json"),
    JSON.stringify({
      scenarios: { quick: { run: "true", runtime: "native", repeat: 1, budget: { peakRss: "1 GiB" } } },
    }),
  );
  return dir;
}

describe.skipIf(!CAN_MOUNT)("a failed write loses nothing and says what failed (item 7)", () => {
  it("run --report on a full disk: the table is printed, no .tmp is left, ENOSPC is named, exit 2", () => {
    const dir = project();
    const r = withSmallDisks(dir, ["run", "--report", "full/report.json", "--markdown", "comment.md"]);
    expect(r.status, r.stderr).toBe(2);
    // The measurement reached the terminal.
    expect(r.stdout).toMatch(/quick\s+peak RSS/);
    expect(r.stdout).toContain("1 scenario within budget");
    expect(r.stderr).toContain(
      "membudget: cannot write full/report.json: ENOSPC (no space left on the device)",
    );
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(r.listing).not.toMatch(/\.tmp/);
    // The file that could be written still was.
    expect(readdirSync(dir)).toContain("comment.md");
  });

  it("run --markdown on a read-only file system: EROFS is named, exit 2", () => {
    const dir = project();
    const r = withSmallDisks(dir, ["run", "--markdown", "ro/comment.md"]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stdout).toContain("1 scenario within budget");
    expect(r.stderr).toContain("membudget: cannot write ro/comment.md: EROFS (read-only file system)");
  });

  it("merge -o on a full disk names the path and ENOSPC, exit 2, and leaves no .tmp", () => {
    const dir = project();
    const a = report([{ name: "a", runs: [{ peakHeap: MiB }], budget: { peakHeap: 2 * MiB } }]);
    const b = report([{ name: "b", runs: [{ peakHeap: MiB }], budget: { peakHeap: 2 * MiB } }]);
    writeReport(join(dir, "a.json"), a);
    writeReport(join(dir, "b.json"), b);
    const r = withSmallDisks(dir, ["merge", "a.json", "b.json", "-o", "full/merged.json"]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr).toContain(
      "membudget: cannot write full/merged.json: ENOSPC (no space left on the device)",
    );
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(r.listing).not.toMatch(/\.tmp/);
  });
});
