// The `merge` input's globs: relative to the working directory or absolute, through @actions/glob.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { globFiles } from "../../src/action/glob.js";

let root: string;
beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), "membudget-glob-"));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function files(dir: string, names: string[]): string[] {
  return names.map((name) => {
    const file = path.join(dir, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, "{}");
    return file;
  });
}

describe("globFiles", () => {
  it("takes relative patterns from the given directory and absolute ones as they are", async () => {
    const [a, b] = files(root, ["work/shards/1/r.json", "work/shards/2/r.json", "work/shards/2/r.txt"]);
    const work = path.join(root, "work");
    expect(await globFiles(["shards/**/*.json"], work)).toEqual([a, b]);
    expect(await globFiles(["./shards/*/r.json"], work)).toEqual([a, b]);
    expect(await globFiles([`${root}/work/shards/*/*.json`], "/")).toEqual([a, b]);
    expect(await globFiles(["../work/shards/1/r.json"], path.join(root, "elsewhere"))).toEqual([a]);
    expect(await globFiles(["shards/**/*.json", "!shards/2/*"], work)).toEqual([a]);
    expect(await globFiles(["shards/*.json"], work)).toEqual([]);
  });

  it("reads the directory's own glob characters literally", async () => {
    const dir = path.join(root, "job [1] *");
    const [report] = files(dir, ["shard.json"]);
    files(path.join(root, "job 1 x"), ["shard.json"]);
    expect(await globFiles(["*.json"], dir)).toEqual([report]);
  });

  it("does not walk a symbolic link to a directory, so a loop cannot hang it", async () => {
    const [report] = files(root, ["shards/1.json"]);
    symlinkSync(root, path.join(root, "shards", "loop"));
    expect(await globFiles(["**/*.json"], root)).toEqual([report]);
  });

  it("says what is wrong with a pattern it cannot use", async () => {
    await expect(globFiles(["shards/*/../x.json"], root)).rejects.toThrow(/Relative pathing/);
  });
});
