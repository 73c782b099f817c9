// The second half of the fork pull request pattern: post the comment a pull_request job could not.
import { pullRequestHeadSha } from "../github/comment.js";
import { ReportFileError } from "../model/errors.js";
import type { Report } from "../model/report.js";
import { readReport } from "../report/io.js";
import type { Settings } from "./inputs.js";
import { trustedLinks } from "./provenance.js";
import { postComment, RunnerFiles, setOutputs, writeSummary } from "./publish.js";

export async function commentFromReport(settings: Settings): Promise<void> {
  // The report's own links are its (untrusted) author's: the comment gets membudget's own.
  const report = { ...readReport(settings.reportPath), links: trustedLinks(settings) };
  const { pr, owner, repo } = await trustedPullRequest(settings, report, settings.reportPath);
  const url = await postComment(
    { ...settings, github: { ...settings.github, owner, repo } },
    report,
    pr.number,
    pr.commentKey ?? settings.commentKey,
    "from-report",
  );
  const files = new RunnerFiles();
  setOutputs(settings, report, files);
  files.setOutput("comment-url", url ?? "");
  await writeSummary(report, files);
  files.throwFirst();
}

/**
 * The pull request a report made by an untrusted job may comment on, after every check (also
 * applied to each shard report of a merge); throws when the report must not be posted.
 */
export async function trustedPullRequest(
  settings: Settings,
  report: Report,
  file: string,
): Promise<{ pr: NonNullable<Report["pullRequest"]>; owner: string; repo: string }> {
  const pr = report.pullRequest;
  if (!pr) {
    throw new ReportFileError(file, [
      {
        pointer: "/pullRequest",
        line: 1,
        column: 1,
        message: "the report records no pull request",
        fix: "make the report in a pull_request job (the membudget step records the pull request number in it)",
      },
    ]);
  }
  const [owner, repo] = pr.repository.split("/");
  const own = `${settings.github.owner}/${settings.github.repo}`;
  if (pr.repository !== own) {
    throw new Error(`the report is for ${pr.repository}, but this workflow runs in ${own}`);
  }
  // The report comes from the pull request's own (untrusted) job: comment only when a workflow_run
  // event vouches for it (the commit the triggering run measured), and only on the pull request
  // whose head is that commit now, as the API says. Any other event cannot vouch: fail closed.
  const run = settings.github.workflowRun;
  if (settings.github.eventName !== "workflow_run" || !run) {
    throw new Error(
      `refusing to comment: comment: from-report runs only in a workflow_run job (this is a ${settings.github.eventName || "local"} run${settings.github.eventName === "workflow_run" ? " without its event payload" : ""}); nothing else can vouch for the report's commit`,
    );
  }
  if (!/^[0-9a-f]{40}$/.test(run.headSha)) {
    throw new Error(
      `refusing to comment: the workflow_run event names no head commit (${JSON.stringify(run.headSha)})`,
    );
  }
  if (pr.headSha !== run.headSha || report.commit !== run.headSha) {
    throw new Error(
      `refusing to comment: the report is for commit ${shortText(report.commit !== run.headSha ? report.commit : pr.headSha)}, but the workflow run measured ${run.headSha.slice(0, 7)}`,
    );
  }
  if (run.pullRequestNumbers.length > 0 && !run.pullRequestNumbers.includes(pr.number)) {
    throw new Error(
      `refusing to comment: the report names pull request #${pr.number}, but the workflow run was for ${run.pullRequestNumbers.map((n) => `#${n}`).join(", ")}`,
    );
  }
  const head = await pullRequestHeadSha({
    token: settings.token,
    apiUrl: settings.github.apiUrl,
    owner: owner!,
    repo: repo!,
    issueNumber: pr.number,
  });
  if (head !== run.headSha) {
    throw new Error(
      `refusing to comment: pull request #${pr.number} is at ${head.slice(0, 7)}, not at ${run.headSha.slice(0, 7)} which the workflow run measured`,
    );
  }
  return { pr, owner: owner!, repo: repo! };
}

/** A value from the report, shown as at most 12 characters of plain text. */
function shortText(value: unknown): string {
  return JSON.stringify(String(value ?? "").slice(0, 12));
}
