// The files the `merge` input names: its lines are globs (`shards/**/*.json`, or absolute such as
// `${{ runner.temp }}/shards/*.json`), matched by the toolkit's @actions/glob, the one actions use.
import path from "node:path";

/**
 * Every file matching `patterns` (one per line as the input gives them; `!` excludes, `#` comments),
 * relative ones taken from `cwd`, sorted, each once. Throws the glob's own message for a pattern it
 * rejects (the caller names the input).
 */
export async function globFiles(patterns: readonly string[], cwd: string): Promise<string[]> {
  // Loaded only by a merging job: a measuring job does not need the glob's code.
  const { create } = await import("@actions/glob");
  const globber = await create(patterns.map((p) => rooted(p, cwd)).join("\n"), {
    matchDirectories: false,
    // A symbolic link to a directory is not walked: a loop cannot hang the step.
    followSymbolicLinks: false,
  });
  return [...new Set(await globber.glob())].sort();
}

/**
 * The pattern with its literal leading directories resolved from `cwd` and escaped: @actions/glob
 * would take a relative pattern from the process's directory (the workspace, not the input's
 * `working-directory`) and refuses `..`, which a resolved prefix no longer has.
 */
function rooted(pattern: string, cwd: string): string {
  const negate = pattern.match(/^!*/)![0];
  const body = pattern.slice(negate.length);
  if (body === "" || body.startsWith("#")) return pattern;
  const segments = body.split("/");
  const wild = segments.findIndex((s) => /[*?[\\]/.test(s));
  const literal = wild < 0 ? segments : segments.slice(0, wild);
  const root = path.resolve(body.startsWith("/") ? "/" : cwd, ...literal.filter(Boolean));
  const rest = wild < 0 ? [] : segments.slice(wild);
  return negate + [escapeGlob(root), ...rest].join("/");
}

/** A literal path as @actions/glob reads it: its glob characters and `\` escaped. */
function escapeGlob(literal: string): string {
  return literal.replace(/\\/g, "\\\\").replace(/\[/g, "[[]").replace(/\?/g, "[?]").replace(/\*/g, "[*]");
}
