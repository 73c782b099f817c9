// Everything the Action hands back to the runner: the report file, job summary, annotations, outputs,
// the sticky comment, and a failed step on a breach.
import * as core from "@actions/core";
import { upsertStickyComment } from "../github/comment.js";
import { WriteError } from "../model/errors.js";
import { SUMMARY_LIMIT } from "../model/limits.js";
import type { Report } from "../model/report.js";
import { failingScenarios, shownStatus } from "../model/status.js";
import { annotationsOf } from "../render/annotations.js";
import { renderMarkdown } from "../render/markdown.js";
import { writeReport } from "../report/io.js";
import { stickyAction } from "./comment-policy.js";
import type { CommentMode, Settings } from "./inputs.js";
import { workspacePath } from "./workspace.js";

/** How many error (and warning) annotations of one step GitHub shows. */
const ANNOTATIONS_SHOWN = 10;

/** A report measured here: written, summarised, annotated, commented on, and the step failed on a breach. */
export async function publish(settings: Settings, report: Report): Promise<void> {
  // A report file that cannot be written (a full disk) fails the step, but after the summary,
  // annotations and comment have carried the measurement.
  // The runner's own files (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY) the same.
  const unwritten = new RunnerFiles();
  try {
    writeReport(settings.reportPath, report);
  } catch (err) {
    if (!(err instanceof WriteError)) throw err;
    unwritten.failed.push(err);
    core.error(err.message, { title: "membudget: report not written" });
  }
  await writeSummary(report, unwritten);
  // GitHub shows 10 errors, 10 warnings and 10 notices of a step: the rest would vanish unsaid.
  // One notice stays free for the line that says what was left out.
  const annotations = annotationsOf(report, workspacePath(settings, settings.budgets));
  const left: string[] = [];
  const shown = { error: 0, warning: 0, notice: 0 };
  const cap = { error: ANNOTATIONS_SHOWN, warning: ANNOTATIONS_SHOWN, notice: ANNOTATIONS_SHOWN - 1 };
  for (const a of annotations) {
    if (shown[a.level] >= cap[a.level]) {
      left.push(a.title.replace(/^membudget: /, ""));
      continue;
    }
    shown[a.level]++;
    const props = { title: a.title, file: a.file, startLine: a.line };
    if (a.level === "error") core.error(a.message, props);
    else if (a.level === "warning") core.warning(a.message, props);
    else core.notice(a.message, props);
  }
  if (left.length > 0) {
    // A notice: the quota of the level that overflowed is spent; one notice was kept for this.
    core.notice(
      `${left.length} more ${left.length === 1 ? "annotation is" : "annotations are"} left out (GitHub shows ${ANNOTATIONS_SHOWN} of each level in a step): ${left.slice(0, 50).join("; ")}${left.length > 50 ? `; and ${left.length - 50} more` : ""}. The job summary and the report list them all.`,
      { title: "membudget: annotations left out" },
    );
  }
  const failed = setOutputs(settings, report, unwritten);
  const pr = settings.github.pullRequest;
  let url: string | undefined;
  if (pr && settings.comment !== "never") {
    url = await postComment(settings, report, pr.number, settings.commentKey, settings.comment);
  } else if (!pr && settings.comment !== "never") {
    core.info(
      `membudget: no pull request in a ${settings.github.eventName || "local"} run: the job summary holds the table.`,
    );
  }
  unwritten.setOutput("comment-url", url ?? "");
  core.info(`membudget: ${report.summary}`);
  // A report that is not whole (a shard sent none) fails the step even when every scenario in it passed.
  if (failed.length > 0 || report.error)
    core.setFailed(`membudget: ${report.summary}${failed.length > 0 ? ` (${failed.join(", ")})` : ""}`);
  unwritten.throwFirst();
}

/**
 * The `status` output of a step that fails before anything is measured (a bad budget file, shards
 * that cannot be merged): a full GITHUB_OUTPUT is named in an annotation, and the step still fails
 * with the error that stopped it, not with the write's.
 */
export function setErrorStatus(): void {
  new RunnerFiles().setOutput("status", "error");
}

/**
 * Writes to the runner's files (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY) and the report that failed (a
 * full disk): each is named in an error annotation once, and the step fails with the first only
 * after the rest (the comment above all) has carried the measurement. @actions/core's own error
 * names neither the variable nor the file.
 */
export class RunnerFiles {
  readonly failed: WriteError[] = [];

  setOutput(name: string, value: string): void {
    try {
      core.setOutput(name, value);
    } catch (err) {
      this.fail("GITHUB_OUTPUT", err);
    }
  }

  async writeSummary(markdown: string): Promise<void> {
    try {
      await core.summary.addRaw(markdown).write();
    } catch (err) {
      core.summary.emptyBuffer();
      this.fail("GITHUB_STEP_SUMMARY", err);
    }
  }

  throwFirst(): void {
    if (this.failed[0]) throw this.failed[0];
  }

  private fail(variable: string, cause: unknown): void {
    const error = new WriteError(`${process.env[variable] ?? ""} (${variable})`, cause);
    if (this.failed.some((e) => e.path === error.path)) return;
    this.failed.push(error);
    core.error(error.message, { title: `membudget: ${variable} not written` });
  }
}

export async function writeSummary(report: Report, files: RunnerFiles): Promise<void> {
  await files.writeSummary(renderMarkdown(report, { limit: SUMMARY_LIMIT, open: true }));
}

/** status, report and failed; returns the scenarios that fail the step under `fail-on`. */
export function setOutputs(settings: Settings, report: Report, files: RunnerFiles): string[] {
  const failed = failingScenarios(report, settings.failOn);
  files.setOutput("status", shownStatus(report.status));
  files.setOutput("report", settings.reportPath);
  files.setOutput("failed", failed.join("\n"));
  return failed;
}

export async function postComment(
  settings: Settings,
  report: Report,
  issueNumber: number,
  key: string,
  mode: Exclude<CommentMode, "never">,
): Promise<string | undefined> {
  const result = await upsertStickyComment({
    token: settings.token,
    apiUrl: settings.github.apiUrl,
    owner: settings.github.owner,
    repo: settings.github.repo,
    issueNumber,
    key,
    body: renderMarkdown(report),
    mode: stickyAction(report, mode),
  });
  if (result.warning) core.warning(result.warning);
  core.info(`membudget: pull request comment ${result.action}${result.url ? `: ${result.url}` : ""}`);
  return result.url;
}
