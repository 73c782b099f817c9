// Paths as GitHub shows them in annotations and the summary: relative to the workspace.
import { relative } from "node:path";
import type { Report } from "../model/report.js";
import type { Settings } from "./inputs.js";

export function workspacePath(settings: Settings, file: string): string {
  const rel = relative(settings.github.workspace, file);
  return rel.startsWith("..") ? file : rel;
}

/** The pull request a report was measured for, as the fork pattern's second half reads it back. */
export function pullRequestRecord(
  settings: Settings,
  pr: NonNullable<Settings["github"]["pullRequest"]>,
): NonNullable<Report["pullRequest"]> {
  return {
    number: pr.number,
    repository: `${settings.github.owner}/${settings.github.repo}`,
    baseSha: pr.baseSha,
    headSha: pr.headSha,
    commentKey: settings.commentKey,
  };
}
