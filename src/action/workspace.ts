// Paths as GitHub shows them in annotations and the summary: relative to the workspace.
import { relative } from "node:path";
import type { Settings } from "./inputs.js";

export function workspacePath(settings: Settings, file: string): string {
  const rel = relative(settings.github.workspace, file);
  return rel.startsWith("..") ? file : rel;
}
