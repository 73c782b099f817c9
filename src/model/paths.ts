// Paths as membudget prints them: relative to the current directory when inside it.
import { isAbsolute, relative } from "node:path";

export function displayPath(absolute: string, cwd: string): string {
  const rel = relative(cwd, absolute);
  return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : absolute;
}
