// Paths as membudget prints them (relative to the current directory when inside it), where it keeps
// its cache, and where the tools it runs are.
import { accessSync, constants, statSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, isAbsolute, join, relative } from "node:path";

export function displayPath(absolute: string, cwd: string): string {
  const rel = relative(cwd, absolute);
  return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : absolute;
}

/**
 * membudget's cache: the native helpers, the Python probe's compiled code, the CLI's code cache.
 * MEMBUDGET_CACHE_DIR is used as given; otherwise a `membudget` folder of XDG_CACHE_HOME or ~/.cache.
 * Throws when there is no home directory to be found (HOME unset, no passwd entry).
 */
export function cacheRoot(): string {
  const own = process.env["MEMBUDGET_CACHE_DIR"];
  if (own) return own;
  // The XDG rule: a relative XDG_CACHE_HOME is ignored.
  const xdg = process.env["XDG_CACHE_HOME"];
  return join(xdg && isAbsolute(xdg) ? xdg : join(homedir(), ".cache"), "membudget");
}

/**
 * Where `name` is on PATH, as execvp would find it (the first executable file), or `name` itself
 * when it is not there (spawn then fails as it would have). Spawning a command by its path spares
 * the child execvp's failed attempts along PATH, which the parent waits through (a PATH as pyenv or
 * cargo leaves it puts several folders before git's).
 */
export function onPath(name: string): string {
  const path = process.env["PATH"] ?? "";
  const key = `${name}\0${path}`;
  let found = onPathMemo.get(key);
  if (found === undefined) {
    found = name;
    for (const dir of path.split(delimiter)) {
      // A relative entry means "from the child's working directory": execvp's to resolve.
      if (!isAbsolute(dir)) break;
      const candidate = join(dir, name);
      try {
        accessSync(candidate, constants.X_OK);
        if (!statSync(candidate).isFile()) continue;
        found = candidate;
        break;
      } catch {
        // not here
      }
    }
    onPathMemo.set(key, found);
  }
  return found;
}

const onPathMemo = new Map<string, string>();
