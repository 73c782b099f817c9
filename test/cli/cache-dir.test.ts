// MEMBUDGET_CACHE_DIR that cannot be used (a file, a read-only mount), under `node dist/cli.js run`:
// the helpers are built in a temp directory instead, said once, and the run measures as usual
// (issue 10, item 8). One that holds what a run needs is used read-only: nothing is written to it.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { readReport } from "../../src/report/io.js";

const CLI = resolve("dist/cli.js");
const HOLD = resolve("test/fixtures/workloads/cli/hold.py");

const CAN_MOUNT =
  spawnSync(
    "unshare",
    ["-rm", "sh", "-c", "d=$(mktemp -d) && mount -t tmpfs -o ro,size=16k tmpfs $d && umount $d"],
    {
      encoding: "utf8",
    },
  ).status === 0;

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), "mb-cache-"));
  writeFileSync(
    join(dir, "membudget.json"),
    JSON.stringify({
      scenarios: { hold: { run: `python3 ${HOLD} 20`, repeat: 1, budget: { peakHeap: "64 MiB" } } },
    }),
  );
  return dir;
}

/** Runs `membudget run` (optionally inside `sh -c prefix`, e.g. a namespace) with the cache at `cache`. */
function runWithCache(dir: string, cache: string, wrap?: string) {
  const env = { ...process.env, NO_COLOR: "1", MEMBUDGET_CACHE_DIR: cache, TMPDIR: join(dir, "tmp") };
  mkdirSync(env.TMPDIR, { recursive: true });
  const args = [CLI, "run", "--report", "r.json"];
  const r = wrap
    ? spawnSync("unshare", ["-rm", "sh", "-c", `${wrap} && exec "$0" "$@"`, process.execPath, ...args], {
        cwd: dir,
        env,
        encoding: "utf8",
        timeout: 120_000,
      })
    : spawnSync(process.execPath, args, { cwd: dir, env, encoding: "utf8", timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function expectFellBack(r: ReturnType<typeof runWithCache>, dir: string, cache: string, why: RegExp) {
  expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  expect(r.code, r.stderr).toBe(0);
  const note = `the cache directory ${cache} cannot be used (`;
  // Said once in the terminal (however many helpers and runs), and in the report.
  expect(r.stdout.split(note).length - 1, r.stdout).toBe(1);
  expect(r.stdout).toMatch(why);
  expect(r.stdout).toContain(`the native helpers are built in ${join(dir, "tmp")}/membudget-cache-`);
  const report = readReport(join(dir, "r.json"));
  // The helpers worked from the fallback: exact peak RSS and malloc totals are there.
  expect(report.scenarios[0]!.metrics.peakHeap!.value).toBeGreaterThan(20 * 1024 * 1024);
  expect(report.scenarios[0]!.unavailable?.allocated).toBeUndefined();
  expect(report.notes?.filter((n) => n.startsWith(note))).toHaveLength(1);
}

describe("an unusable cache dir degrades, never crashes (item 8)", () => {
  it("MEMBUDGET_CACHE_DIR is a file", () => {
    const dir = project();
    const cache = join(dir, "not-a-dir");
    writeFileSync(cache, "");
    expectFellBack(runWithCache(dir, cache), dir, cache, /cannot be used \(ENOTDIR: it is a file\)/);
  });

  it.skipIf(!CAN_MOUNT)("MEMBUDGET_CACHE_DIR is on a read-only file system", () => {
    const dir = project();
    const cache = join(dir, "ro");
    mkdirSync(cache);
    const r = runWithCache(dir, cache, `mount -t tmpfs -o ro,size=16k tmpfs ${cache}`);
    expectFellBack(r, dir, cache, /cannot be used \(EROFS\)/);
  });

  it.skipIf(!CAN_MOUNT)("a cache filled earlier and now read-only is used as it is, with no note", () => {
    const dir = project();
    const cache = join(dir, "filled");
    // A first run fills it (the helpers, the Python probe's code); then it is mounted read-only,
    // as a cache baked into an image or restored read-only would be.
    expect(runWithCache(dir, cache).code).toBe(0);
    const r = runWithCache(dir, cache, `mount --bind ${cache} ${cache} && mount -o remount,ro,bind ${cache}`);
    expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).not.toContain("cannot be used");
    const report = readReport(join(dir, "r.json"));
    expect(report.notes ?? []).toEqual([]);
    // Built nowhere else: the fallback folder was not made.
    expect(existsSync(join(dir, "tmp", `membudget-cache-${process.getuid!()}`))).toBe(false);
    expect(report.scenarios[0]!.metrics.peakHeap!.value).toBeGreaterThan(20 * 1024 * 1024);
    expect(report.scenarios[0]!.unavailable?.allocated).toBeUndefined();
  });
});
