// The CLI's code cache (src/cli/code-cache.ts) as a user meets it through `node dist/cli.js`: written
// after the first start of a command, taken by V8 at the next, replaced when damaged, never read from
// a folder others can write, off with NODE_DISABLE_COMPILE_CACHE, and the output the same either way.
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { basename, join, resolve } from "node:path";
import { describe, expect, it } from "vitest";

const CLI = resolve("dist/cli.js");
const BUNDLE = /chunks\/(cli-[A-Z0-9]+)\.cjs/.exec(readFileSync(CLI, "utf8"))![1]!;

function setup(): { dir: string; cache: string; budgets: string } {
  const dir = mkdtempSync(join(tmpdir(), "mb-codecache-"));
  const budgets = join(dir, "membudget.json");
  writeFileSync(
    budgets,
    JSON.stringify({ scenarios: { quick: { run: "true", budget: { peakRss: "1 GiB" } } } }),
  );
  return { dir, cache: join(dir, "cache"), budgets };
}

function cli(cache: string, args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", MEMBUDGET_CACHE_DIR: cache, NODE_DEBUG: "membudget", ...env },
    timeout: 60_000,
  });
  const said = r.stderr.match(/code cache: .*/g) ?? [];
  // The debug lines are the only difference NODE_DEBUG makes to stderr.
  const stderr = r.stderr.replace(/^MEMBUDGET \d+: code cache: .*\n/gm, "");
  return { code: r.status, stdout: r.stdout, stderr, said };
}

/** The cache file of `command` in `cache` (its name: bundle, size and mtime, Node, options, command). */
function cacheFile(cache: string, command: string): string {
  const dir = join(cache, "js");
  const names = existsSync(dir) ? readdirSync(dir) : [];
  const name = names.find(
    (n) =>
      n.startsWith(`${BUNDLE}-`) &&
      n.endsWith(`-${process.version}-${process.arch}-${optionsOf(n)}-${command}.v8`),
  );
  return join(dir, name ?? `${BUNDLE}-?-${command}.v8`);
}
const optionsOf = (name: string) => name.split("-").at(-2) ?? "";

describe("the CLI's code cache", () => {
  it("is written by a command's first start and taken by V8 at the next, with the same output", () => {
    const { cache, budgets } = setup();
    const first = cli(cache, ["validate", budgets]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.said[0]).toMatch(/^code cache: none at /);
    expect(first.said[1]).toMatch(/^code cache: written .*validate\.v8 \(\d+ bytes\)$/);
    const file = cacheFile(cache, "validate");
    const written = statSync(file);
    expect(written.size).toBeGreaterThan(10_000);
    expect(written.mode & 0o777).toBe(0o600);
    expect(statSync(join(cache, "js")).mode & 0o777).toBe(0o700);

    const second = cli(cache, ["validate", budgets]);
    expect(second.said).toEqual([`code cache: accepted ${file}`]);
    expect(statSync(file).mtimeMs).toBe(written.mtimeMs);
    expect([second.code, second.stdout, second.stderr]).toEqual([first.code, first.stdout, first.stderr]);
  });

  it("keeps one cache per command, and `run` measures the same with it", () => {
    const { cache, budgets } = setup();
    const runs = [1, 2].map(() => cli(cache, ["run", "--budgets", budgets]));
    expect(runs.map((r) => r.code)).toEqual([0, 0]);
    expect(runs[1]!.said).toEqual([`code cache: accepted ${cacheFile(cache, "run")}`]);
    expect(runs[1]!.stdout).toMatch(/quick\s+peak RSS .* pass/);
    // The budgeted row and the verdict read the same (figures aside) with and without the cache.
    const shape = (text: string) =>
      text
        .split("\n")
        .filter((l) => /peak RSS |within budget/.test(l))
        .map((l) => l.replace(/\d+(\.\d+)? (B|KiB|MiB|GiB)\b/g, "N"));
    expect(shape(runs[1]!.stdout)).toEqual(shape(runs[0]!.stdout));
    expect(shape(runs[1]!.stdout)).toHaveLength(2);
    cli(cache, ["validate", budgets]);
    cli(cache, ["--version"]);
    expect(readdirSync(join(cache, "js")).sort()).toEqual(
      ["other", "run", "validate"].map((c) => basename(cacheFile(cache, c))),
    );
    for (const c of ["other", "run", "validate"]) expect(existsSync(cacheFile(cache, c))).toBe(true);
  });

  it("replaces a damaged cache, and the start works as without one", () => {
    const { cache, budgets } = setup();
    cli(cache, ["validate", budgets]);
    const file = cacheFile(cache, "validate");
    writeFileSync(file, Buffer.alloc(50_000, 0x5a), { mode: 0o600 });
    const r = cli(cache, ["validate", budgets]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("valid, 1 scenario");
    expect(r.said[0]).toBe(`code cache: rejected ${file}`);
    expect(r.said[1]).toMatch(/^code cache: written /);
    expect(readFileSync(file).subarray(0, 64)).not.toEqual(Buffer.alloc(64, 0x5a));
    expect(cli(cache, ["validate", budgets]).said).toEqual([`code cache: accepted ${file}`]);
  });

  it("keeps other bundles' recent caches (another checkout's) and drops old ones when it writes its own", () => {
    const { cache, budgets } = setup();
    const js = join(cache, "js");
    mkdirSync(js, { recursive: true, mode: 0o700 });
    const other = (id: string, daysOld: number) => {
      const file = join(js, `${BUNDLE}-${id}-${process.version}-${process.arch}-x-validate.v8`);
      writeFileSync(file, "other", { mode: 0o600 });
      const when = new Date(Date.now() - daysOld * 24 * 3600_000);
      utimesSync(file, when, when);
      return basename(file);
    };
    // The same bundle in another checkout (another mtime in its name), used yesterday: kept.
    const recent = other("1.a", 1);
    // One not written for 31 days: dropped.
    other("1.b", 31);
    // Beyond the 16 newest others: the oldest go.
    const many = Array.from({ length: 17 }, (_, i) => other(`2.${i}`, 2 + i / 10));
    const written = /^code cache: written (\S+)/.exec(cli(cache, ["validate", budgets]).said[1] ?? "")?.[1];
    expect(written).toBeDefined();
    expect(readdirSync(js).sort()).toEqual([basename(written!), recent, ...many.slice(0, 15)].sort());
  });

  it("never reads nor writes a folder that others can write", () => {
    const { cache, budgets } = setup();
    const js = join(cache, "js");
    mkdirSync(js, { recursive: true });
    chmodSync(js, 0o777);
    const planted = join(js, `${BUNDLE}-planted-validate.v8`);
    writeFileSync(planted, "planted");
    const r = cli(cache, ["validate", budgets]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.said).toEqual(["code cache: off (no private cache folder)"]);
    expect(readFileSync(planted, "utf8")).toBe("planted");
  });

  it("is off with NODE_DISABLE_COMPILE_CACHE=1, and an unusable cache folder changes nothing", () => {
    const { dir, cache, budgets } = setup();
    const off = cli(cache, ["validate", budgets], { NODE_DISABLE_COMPILE_CACHE: "1" });
    expect(off.code).toBe(0);
    expect(off.said).toEqual(["code cache: off (NODE_DISABLE_COMPILE_CACHE)"]);
    expect(() => statSync(join(cache, "js"))).toThrow();
    // The cache folder is a file: the start works, and says so only for NODE_DEBUG.
    const file = join(dir, "a-file");
    writeFileSync(file, "");
    const r = cli(file, ["validate", budgets]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("valid, 1 scenario");
    expect(r.said).toEqual(["code cache: off (no private cache folder)"]);
  });

  it("keeps no cache from a start that ended in a usage error, and follows no link to one", () => {
    const { dir, cache, budgets } = setup();
    const bad = cli(cache, ["run", "--no-such-option"]);
    expect(bad.code).toBe(2);
    expect(bad.said.at(-1)).toBe("code cache: not written: a usage error");
    expect(existsSync(join(cache, "js"))).toBe(false);
    cli(cache, ["validate", budgets]);
    const file = cacheFile(cache, "validate");
    const elsewhere = join(dir, "elsewhere.v8");
    writeFileSync(elsewhere, readFileSync(file), { mode: 0o600 });
    rmSync(file);
    symlinkSync(elsewhere, file);
    const linked = cli(cache, ["validate", budgets]);
    expect(linked.code).toBe(0);
    expect(linked.said[0]).toBe(`code cache: none at ${file}`);
  });
});
