// Checks out the pull request's base commit in a separate git worktree, fetching it first when the checkout is shallow.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { firstLine, GitError, git } from "../git/git.js";

export interface BaseWorktreeOptions {
  /** The repository the workflow checked out (the head). */
  repoDir: string;
  /** The commit to check out, e.g. pull_request.base.sha. */
  sha: string;
  /** How many commits to fetch when the sha is missing (default 1: only the commit itself is needed). */
  depthHint?: number;
  /** The base branch, fetched instead if the server refuses to serve the sha by itself. */
  fallbackRef?: string;
  /** Where to create the worktree's directory (default RUNNER_TEMP, else the OS temp directory). */
  parentDir?: string;
}

export interface BaseWorktree {
  /** The worktree's directory: the repository as it is at `sha`. */
  dir: string;
  /** The top of the head checkout: `path.relative(headRoot, workingDirectory)` is the same place in `dir`. */
  headRoot: string;
  /** Whether `sha` had to be fetched from origin. */
  fetched: boolean;
  /** Removes the worktree and its directory; safe to call more than once. */
  cleanup(): Promise<void>;
}

export async function prepareBaseWorktree(options: BaseWorktreeOptions): Promise<BaseWorktree> {
  const { repoDir, sha } = options;
  if (!/^[0-9a-f]{7,64}$/i.test(sha)) {
    throw new GitError(`The base commit "${sha}" is not a commit hash.`, "");
  }
  const top = (
    await git(repoDir, ["rev-parse", "--show-toplevel"], `${repoDir} is not a git repository`)
  ).trim();

  let fetched = false;
  if (!(await hasCommit(top, sha))) {
    await fetchBase(top, options);
    fetched = true;
  }

  const parent = options.parentDir ?? (process.env["RUNNER_TEMP"] || tmpdir());
  const dir = await mkdtemp(path.join(parent, "membudget-base-"));
  try {
    await git(top, ["worktree", "add", "--detach", dir, sha], `could not check out the base commit ${sha}`);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }

  let cleaned = false;
  return {
    dir,
    headRoot: top,
    fetched,
    async cleanup() {
      if (cleaned) return;
      cleaned = true;
      // --force: the scenarios may have left build outputs or caches in the worktree.
      await git(top, ["worktree", "remove", "--force", dir], "").catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
      await git(top, ["worktree", "prune"], "").catch(() => undefined);
    },
  };
}

async function hasCommit(repo: string, sha: string): Promise<boolean> {
  try {
    await git(repo, ["cat-file", "-e", `${sha}^{commit}`], "");
    return true;
  } catch {
    return false;
  }
}

async function fetchBase(repo: string, options: BaseWorktreeOptions): Promise<void> {
  const { sha } = options;
  // In a full clone a --depth fetch would turn the repository shallow; only deepen shallow ones.
  const shallow = (await git(repo, ["rev-parse", "--is-shallow-repository"], "")).trim() === "true";
  const depth = shallow ? [`--depth=${Math.max(1, Math.floor(options.depthHint ?? 1))}`] : [];
  const fetch = (what: string) => git(repo, ["fetch", "--no-tags", ...depth, "origin", what], "");
  try {
    await fetch(sha);
    return;
  } catch (error) {
    if (!options.fallbackRef) throw fetchError(sha, error);
    // Some servers only serve advertised refs; the base branch usually still contains the sha.
    try {
      await fetch(`+refs/heads/${options.fallbackRef}:refs/remotes/origin/${options.fallbackRef}`);
    } catch (second) {
      throw fetchError(sha, second);
    }
    if (!(await hasCommit(repo, sha))) {
      throw new GitError(
        `membudget fetched origin/${options.fallbackRef} but the base commit ${sha} is not on it ` +
          "(the base branch moved on and the commit is deeper than the fetch). Use `fetch-depth: 0` in actions/checkout.",
        "",
      );
    }
  }
}

function fetchError(sha: string, error: unknown): GitError {
  const stderr = error instanceof GitError ? error.stderr : String(error);
  return new GitError(
    `membudget could not fetch the base commit ${sha} from origin to compare against it: ${firstLine(stderr)}. ` +
      "actions/checkout must keep its credentials (`persist-credentials: true`, the default), or set " +
      "`fetch-depth: 0` so the base is already there; or use `compare: none`.",
    stderr,
  );
}
