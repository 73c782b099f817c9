// The Action's `merge` path: the shards' reports in, one judged report out, published exactly as a
// single job publishes it (comment, summary, annotations, outputs, failed step). Nothing is measured.

import * as core from "@actions/core";
import { UsageError } from "../model/errors.js";
import type { Report } from "../model/report.js";
import { plural } from "../model/units.js";
import { readReport } from "../report/io.js";
import { mergeReports, type ReportFile } from "../report/merge.js";
import { trustedPullRequest } from "./from-report.js";
import { globFiles } from "./glob.js";
import { InputError, type Settings } from "./inputs.js";
import { mergeProvenance } from "./provenance.js";
import { publish, setErrorStatus } from "./publish.js";
import { workspacePath } from "./workspace.js";

export async function mergeShards(settings: Settings): Promise<void> {
  const patterns = settings
    .merge!.split(/\r?\n/)
    .map((p) => p.trim())
    .filter(Boolean);
  // The merged report may be written inside the glob (a re-run): it is not a shard.
  let found: string[];
  try {
    found = await globFiles(patterns, settings.workingDirectory);
  } catch (err) {
    throw new InputError(`Input \`merge\` is "${settings.merge}": ${(err as Error).message}`);
  }
  const files = found.filter((f) => f !== settings.reportPath);
  if (files.length === 0) {
    throw new InputError(
      `Input \`merge\` is "${settings.merge}": no file matches it in ${settings.workingDirectory}. Download the shards' artifacts there first (actions/download-artifact with a \`pattern\`).`,
    );
  }
  const inputs: ReportFile[] = files.map((f) => ({
    file: workspacePath(settings, f),
    report: readReport(f),
  }));
  core.info(`membudget: merging ${plural(inputs.length, "report")}: ${inputs.map((i) => i.file).join(", ")}`);
  let target = settings;
  if (settings.comment === "from-report") {
    // The fork pattern: every shard came from an untrusted job, so each is checked on its own.
    for (const input of inputs)
      target = forPullRequest(settings, await trustedPullRequest(settings, input.report, input.file));
  }
  let report: Report;
  try {
    report = mergeReports(inputs, mergeProvenance(settings));
  } catch (err) {
    setErrorStatus();
    throw err;
  }
  const pr = settings.github.pullRequest;
  if (settings.comment !== "from-report" && pr && report.commit && report.commit !== pr.headSha) {
    setErrorStatus();
    throw new UsageError(
      `the shard reports are of commit ${report.commit.slice(0, 7)}, but this pull request's head is ${pr.headSha.slice(0, 7)}: were another run's artifacts downloaded?`,
    );
  }
  if (report.error) core.error(report.error, { title: "membudget: a shard is missing" });
  await publish(target, report);
}

/** The settings a single job of that pull request would have had: the comment goes to it, under its key. */
function forPullRequest(
  settings: Settings,
  trusted: Awaited<ReturnType<typeof trustedPullRequest>>,
): Settings {
  const { pr, owner, repo } = trusted;
  return {
    ...settings,
    commentKey: pr.commentKey ?? settings.commentKey,
    github: {
      ...settings.github,
      owner,
      repo,
      pullRequest: {
        number: pr.number,
        baseSha: pr.baseSha ?? "",
        headSha: pr.headSha ?? "",
        baseRef: "",
        headRef: "",
        fromFork: true,
      },
    },
  };
}
