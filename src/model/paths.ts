// Paths as membudget prints them (relative to the current directory when inside it), and where it keeps its cache.
import { homedir } from "node:os";
import { isAbsolute, join, relative } from "node:path";

export function displayPath(absolute: string, cwd: string): string {
  const rel = relative(cwd, absolute);
  return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : absolute;
}

/**
 * membudget's cache: the native helpers, the Python probe's compiled code, the CLI's code cache.
 * MEMBUDGET_CACHE_DIR is used as given; otherwise a `membudget` folder of XDG_CACHE_HOME or ~/.cache.
 */
export function cacheRoot(): string {
  const own = process.env["MEMBUDGET_CACHE_DIR"];
  if (own) return own;
  return join(process.env["XDG_CACHE_HOME"] || join(homedir(), ".cache"), "membudget");
}
