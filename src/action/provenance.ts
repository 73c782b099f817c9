// Where the Action's reports come from: the choices its inputs make, and the provenance each of
// its paths (a measuring job, a merging job, a comment posted from a report) puts in the report.
import type { Choices } from "../config/select.js";
import { costsOf } from "../config/select.js";
import type { Provenance, Report } from "../model/report.js";
import { readReport } from "../report/io.js";
import type { Settings } from "./inputs.js";
import { workspacePath } from "./workspace.js";

/** The `only`, `shard` and `balance` inputs as the selection takes them (the head's and the base's). */
export function choicesOf(settings: Settings): Choices {
  return {
    only: settings.only,
    ...(settings.shard ? { shard: settings.shard } : {}),
    ...(settings.shard && settings.balance
      ? {
          balance: {
            costs: costsOf(readReport(settings.balance)),
            source: workspacePath(settings, settings.balance),
          },
        }
      : {}),
  };
}

/** A measuring job's report: the head commit, the budget file, the base, the run's links, the pull request. */
export function headProvenance(
  settings: Settings,
  base: { source: string; note?: string } | undefined,
): Provenance {
  const pr = settings.github.pullRequest;
  const commit = pr?.headSha ?? settings.github.sha;
  return {
    budgetFile: workspacePath(settings, settings.budgets),
    ...(commit ? { commit } : {}),
    ...(base ? { baseSource: base.source } : {}),
    ...(base?.note ? { notes: [base.note] } : {}),
    ...linksOf(settings),
    ...(pr ? { pullRequest: pullRequestRecord(settings, pr) } : {}),
  };
}

/**
 * A merging job's report: this job's run (its summary holds the whole table; the shards' hold their
 * part) and pull request. Merging reports of untrusted jobs (`comment: from-report`), the links are
 * membudget's own and the pull request the one the reports name (each checked before).
 */
export function mergeProvenance(settings: Settings): Pick<Provenance, "links" | "pullRequest"> {
  if (settings.comment === "from-report") return { links: trustedLinks(settings) };
  const pr = settings.github.pullRequest;
  return { ...linksOf(settings), ...(pr ? { pullRequest: pullRequestRecord(settings, pr) } : {}) };
}

/** The run's page, and the repository (the comment links each allocation site to its file and line). */
function linksOf(settings: Settings): Pick<Provenance, "links"> {
  const { runUrl, owner, repo, serverUrl } = settings.github;
  const links = {
    ...(runUrl ? { run: runUrl, summary: runUrl } : {}),
    ...(owner && repo ? { repository: `${serverUrl}/${owner}/${repo}` } : {}),
  };
  return Object.keys(links).length > 0 ? { links } : {};
}

/**
 * The links of a comment posted from untrusted reports: the report's own are its author's, so the
 * comment gets the ones membudget builds from this workflow's context (the repository, and the
 * run that made the report).
 */
export function trustedLinks(settings: Settings): NonNullable<Report["links"]> {
  const repository = `${settings.github.serverUrl}/${settings.github.owner}/${settings.github.repo}`;
  const id = settings.github.workflowRun?.id ?? 0;
  const runPage = id > 0 ? `${repository}/actions/runs/${id}` : undefined;
  return { repository, ...(runPage ? { run: runPage, summary: runPage } : {}) };
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
