// The one place membudget runs git: never through a shell, never waiting for a password prompt.
import { execFile, spawnSync } from "node:child_process";
import { MembudgetError } from "../model/errors.js";
import { onPath } from "../model/paths.js";

/** A git command failed: the message says what membudget was doing, the command, and git's own words. */
export class GitError extends MembudgetError {
  readonly code = "git";
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(message);
    this.name = "GitError";
  }
}

// Never wait for a password prompt in CI: fail and say so instead.
const env = () => ({ ...process.env, GIT_TERMINAL_PROMPT: "0" });

/** Runs git in `cwd`; resolves with its stdout, rejects with a GitError that says what we were `doing`. */
export function git(cwd: string, args: string[], doing: string): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      onPath("git"),
      args,
      { cwd, maxBuffer: 64 * 1024 * 1024, env: env() },
      (error, stdout, stderr) => {
        if (!error) return resolve(stdout);
        const why = firstLine(stderr || error.message);
        const message = doing ? `membudget ${doing}: git ${args.join(" ")} failed: ${why}` : why;
        reject(new GitError(message, stderr || error.message));
      },
    );
  });
}

/** git's trimmed stdout, or undefined when git is missing or fails (for facts that are optional). */
export function gitQuiet(cwd: string, args: string[]): string | undefined {
  const r = spawnSync(onPath("git"), args, { cwd, encoding: "utf8", env: env() });
  const out = r.stdout?.trim();
  return r.status === 0 && out ? out : undefined;
}

/** The commit `dir`'s repository is at (none outside git). */
export function headCommit(dir: string): string | undefined {
  const sha = gitQuiet(dir, ["rev-parse", "--verify", "--quiet", "HEAD"]);
  return sha && /^[0-9a-f]{40,64}$/.test(sha) ? sha : undefined;
}

/** The top of the work tree that holds `dir` (a worktree is its own top). */
export function workTreeTop(dir: string): string | undefined {
  return gitQuiet(dir, ["rev-parse", "--show-toplevel"]);
}

export function firstLine(text: string): string {
  return (
    text
      .split("\n")
      .map((l) => l.trim())
      .find(Boolean) ?? "git gave no reason"
  );
}
