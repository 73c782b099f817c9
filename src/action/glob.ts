// The files a glob names (`shards/**/*.json`), found by walking from its literal part: the `merge`
// input's patterns, without a dependency (fs.globSync needs Node.js 22).
import { readdirSync } from "node:fs";
import path from "node:path";

/** Every file matching one of `patterns` (relative to `cwd`, `/`-separated), sorted, each once. */
export function globFiles(patterns: readonly string[], cwd: string): string[] {
  const found = new Set<string>();
  for (const pattern of patterns) {
    const segments = pattern.split("/").filter((s, i) => s !== "" && !(s === "." && i === 0));
    const wild = segments.findIndex((s) => /[*?[]/.test(s));
    const literal = wild < 0 ? segments : segments.slice(0, wild);
    const root = path.resolve(cwd, ...literal);
    if (wild < 0) {
      if (isFile(root)) found.add(root);
      continue;
    }
    const matcher = globRegExp(segments.slice(wild));
    for (const file of walk(root)) {
      if (matcher.test(path.relative(root, file).split(path.sep).join("/"))) found.add(file);
    }
  }
  return [...found].sort();
}

/** `**` any number of directories, `*` any name part, `?` one character, `[…]` a class. */
function globRegExp(segments: string[]): RegExp {
  let source = "";
  segments.forEach((segment, i) => {
    const last = i === segments.length - 1;
    if (segment === "**") {
      source += last ? ".*" : "(?:[^/]+/)*";
      return;
    }
    source += segment
      .replace(/[.+^${}()|\\]/g, "\\$&")
      .replace(/\*/g, "[^/]*")
      .replace(/\?/g, "[^/]");
    if (!last) source += "/";
  });
  return new RegExp(`^${source}$`);
}

function* walk(dir: string): Generator<string> {
  let entries: import("node:fs").Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    // Symbolic links to directories are not followed: a loop cannot hang the step.
    if (entry.isDirectory()) yield* walk(full);
    else if (entry.isFile() || entry.isSymbolicLink()) yield full;
  }
}

function isFile(file: string): boolean {
  try {
    return readdirSync(path.dirname(file), { withFileTypes: true }).some(
      (e) => e.name === path.basename(file) && !e.isDirectory(),
    );
  } catch {
    return false;
  }
}
