// The base commit checked out beside a shallow head checkout, as on a pull request runner.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { prepareBaseWorktree } from "../../src/action/base-worktree.js";
import { GitError } from "../../src/git/git.js";

let root: string;
const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: "membudget test",
      GIT_AUTHOR_EMAIL: "test@example.com",
      GIT_COMMITTER_NAME: "membudget test",
      GIT_COMMITTER_EMAIL: "test@example.com",
      GIT_CONFIG_NOSYSTEM: "1",
    },
  }).trim();

/** An "origin" with two commits whose workloads differ, and a depth-1 clone of it like actions/checkout makes. */
function makeRepos() {
  const origin = path.join(root, "origin");
  git(root, "init", "--quiet", "--initial-branch=main", origin);
  writeFileSync(path.join(origin, "workload.py"), "data = bytearray(10 * 1024 * 1024)\n");
  git(origin, "add", ".");
  git(origin, "commit", "--quiet", "-m", "base");
  const base = git(origin, "rev-parse", "HEAD");
  writeFileSync(path.join(origin, "workload.py"), "data = bytearray(20 * 1024 * 1024)\n");
  git(origin, "commit", "--quiet", "-am", "head");
  const head = git(origin, "rev-parse", "HEAD");
  const clone = path.join(root, "clone");
  git(root, "clone", "--quiet", "--depth=1", `file://${origin}`, clone);
  return { origin, clone, base, head };
}

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), "membudget-worktree-"));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe("prepareBaseWorktree", () => {
  it("fetches the base commit into a shallow clone, checks it out beside the head, and cleans up", async () => {
    const { clone, base, head } = makeRepos();
    expect(git(clone, "rev-parse", "--is-shallow-repository")).toBe("true");
    expect(() => git(clone, "cat-file", "-e", `${base}^{commit}`)).toThrow();

    const worktree = await prepareBaseWorktree({ repoDir: clone, sha: base, parentDir: root });
    expect(worktree.fetched).toBe(true);
    expect(path.dirname(worktree.dir)).toBe(root);
    expect(git(worktree.dir, "rev-parse", "HEAD")).toBe(base);
    expect(readFileSync(path.join(worktree.dir, "workload.py"), "utf8")).toContain("10 * 1024 * 1024");
    // The head checkout is untouched: same commit, same file, still shallow.
    expect(git(clone, "rev-parse", "HEAD")).toBe(head);
    expect(readFileSync(path.join(clone, "workload.py"), "utf8")).toContain("20 * 1024 * 1024");
    expect(git(clone, "worktree", "list", "--porcelain")).toContain(`worktree ${worktree.dir}`);

    await worktree.cleanup();
    expect(existsSync(worktree.dir)).toBe(false);
    expect(git(clone, "worktree", "list", "--porcelain")).not.toContain(worktree.dir);
    await worktree.cleanup(); // a second call is harmless
  });

  it("does not fetch when the commit is already there, and cleans up a worktree the scenarios dirtied", async () => {
    const { origin, base } = makeRepos();
    const worktree = await prepareBaseWorktree({ repoDir: origin, sha: base, parentDir: root });
    expect(worktree.fetched).toBe(false);
    expect(git(worktree.dir, "rev-parse", "HEAD")).toBe(base);
    writeFileSync(path.join(worktree.dir, "workload.py"), "changed by a scenario\n");
    writeFileSync(path.join(worktree.dir, "cache.bin"), "untracked output\n");
    await worktree.cleanup();
    expect(existsSync(worktree.dir)).toBe(false);
    expect(
      git(origin, "worktree", "list", "--porcelain")
        .split("\n")
        .filter((l) => l.startsWith("worktree ")),
    ).toHaveLength(1);
    // A full clone stays a full clone.
    expect(git(origin, "rev-parse", "--is-shallow-repository")).toBe("false");
  });

  it("works from a subdirectory of the checkout (working-directory)", async () => {
    const { clone, base } = makeRepos();
    const sub = path.join(clone, "sub");
    mkdirSync(sub);
    const worktree = await prepareBaseWorktree({ repoDir: sub, sha: base, parentDir: root });
    expect(git(worktree.dir, "rev-parse", "HEAD")).toBe(base);
    expect(worktree.headRoot).toBe(clone);
    await worktree.cleanup();
  });

  it("when the server will not serve a bare sha, fetches the base branch instead", async () => {
    const { clone, base } = makeRepos();
    // Protocol v0 refuses wants of unadvertised objects, as some servers do.
    git(clone, "config", "protocol.version", "0");
    const shallowFetch = prepareBaseWorktree({
      repoDir: clone,
      sha: base,
      fallbackRef: "main",
      parentDir: root,
    });
    // Depth 1 of main is only the head commit: the error says how to get deeper history.
    await expect(shallowFetch).rejects.toThrow(/base commit .* is not on it .*fetch-depth: 0/);
    const worktree = await prepareBaseWorktree({
      repoDir: clone,
      sha: base,
      fallbackRef: "main",
      depthHint: 2,
      parentDir: root,
    });
    expect(worktree.fetched).toBe(true);
    expect(git(worktree.dir, "rev-parse", "HEAD")).toBe(base);
    await worktree.cleanup();
  });

  it("a commit that origin does not have is a GitError saying what to do", async () => {
    const { clone } = makeRepos();
    const missing = "0123456789abcdef0123456789abcdef01234567";
    const attempt = prepareBaseWorktree({ repoDir: clone, sha: missing, parentDir: root });
    await expect(attempt).rejects.toThrow(GitError);
    await expect(attempt).rejects.toThrow(
      new RegExp(`could not fetch the base commit ${missing} from origin.*fetch-depth: 0`),
    );
    // Nothing left behind.
    expect(
      git(clone, "worktree", "list", "--porcelain")
        .split("\n")
        .filter((l) => l.startsWith("worktree ")),
    ).toHaveLength(1);
  });

  it("refuses something that is not a commit hash, without running git", async () => {
    const { clone } = makeRepos();
    await expect(
      prepareBaseWorktree({ repoDir: clone, sha: "--upload-pack=evil", parentDir: root }),
    ).rejects.toThrow('The base commit "--upload-pack=evil" is not a commit hash.');
  });

  it("a directory that is not a repository is a clear error", async () => {
    await expect(prepareBaseWorktree({ repoDir: root, sha: "a".repeat(40) })).rejects.toThrow(
      /is not a git repository: git rev-parse --show-toplevel failed: fatal: not a git repository/,
    );
  });
});
