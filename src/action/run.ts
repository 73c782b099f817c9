// The Action: a thin adapter that reads the settings, runs the engine (head, and base in a worktree),
// and publishes the report (file, job summary, annotations, outputs, sticky comment, exit status).
import { relative, resolve } from "node:path";
import * as core from "@actions/core";
import { loadPlan } from "../config/load.js";
import type { Plan } from "../config/types.js";
import { attributeSites, runPlan, scenariosWithSites } from "../engine/engine.js";
import { pullRequestHeadSha, upsertStickyComment } from "../github/comment.js";
import { BudgetFileError } from "../model/errors.js";
import type { Report } from "../model/report.js";
import { annotationsOf } from "../render/annotations.js";
import { renderMarkdown } from "../render/markdown.js";
import { progressPrinter } from "../render/progress.js";
import { needsAttention } from "../render/select.js";
import { readReport, writeReport } from "../report/io.js";
import { judgeReport } from "../verdict/judge.js";
import { prepareBaseWorktree } from "./base-worktree.js";
import { type CommentMode, type FailOn, readSettings, type Settings } from "./inputs.js";

/** GitHub shows at most 1 MiB of a step's summary. */
const SUMMARY_LIMIT = 1024 * 1024 - 1024;

export async function run(): Promise<void> {
  const settings = readSettings();
  if (settings.comment === "from-report") {
    await commentFromReport(settings);
    return;
  }
  let plan: Plan;
  try {
    plan = loadPlan(settings.budgets);
  } catch (err) {
    if (err instanceof BudgetFileError) {
      core.setOutput("status", "error");
      for (const p of err.problems) {
        core.error(`${p.pointer || "(top level)"}: ${p.message}${p.fix ? ` — fix: ${p.fix}` : ""}`, {
          title: "membudget: invalid budget file",
          file: workspacePath(settings, settings.budgets),
          startLine: p.line,
          startColumn: p.column,
        });
      }
    }
    throw err;
  }

  const base = await baseReport(settings, plan);
  try {
    await measureHead(settings, plan, base);
  } finally {
    // The base worktree stays until the head is measured: the base's allocation sites are taken
    // afterwards, for the scenarios whose head turned out to need them.
    await base?.cleanup?.();
  }
}

async function measureHead(settings: Settings, plan: Plan, base: BaseResult | undefined): Promise<void> {
  const pr = settings.github.pullRequest;
  core.startGroup(
    `membudget: measuring ${plan.scenarios.length === 1 ? "1 scenario" : `${plan.scenarios.length} scenarios`}${pr ? ` at the head (${pr.headSha.slice(0, 7)})` : ""}`,
  );
  let report: Report;
  try {
    report = await runPlan(plan, {
      only: settings.only,
      ...(base ? { base: base.report, baseSource: base.source } : {}),
      commit: pr?.headSha ?? settings.github.sha,
      budgetFileLabel: workspacePath(settings, settings.budgets),
      ...progressPrinter(process.stdout, false),
    });
  } finally {
    core.endGroup();
  }
  if (base?.report && base.plan) report = await attributeBase(report, base.report, base.plan);
  if (base?.note) report.notes = [...(report.notes ?? []), base.note];
  if (settings.github.runUrl) report.links = { run: settings.github.runUrl, summary: settings.github.runUrl };
  // Lets the comment link each allocation site to its file and line at the measured commit.
  if (settings.github.owner && settings.github.repo)
    report.links = {
      ...report.links,
      repository: `${settings.github.serverUrl}/${settings.github.owner}/${settings.github.repo}`,
    };
  if (pr) {
    report.pullRequest = {
      number: pr.number,
      repository: `${settings.github.owner}/${settings.github.repo}`,
      baseSha: pr.baseSha,
      headSha: pr.headSha,
      commentKey: settings.commentKey,
    };
  }
  await publish(settings, report);
}

interface BaseResult {
  report?: Report;
  source: string;
  /** Said in the report when the base could not be had. */
  note?: string;
  /** When the base was measured here: its plan (in the worktree) and how to remove the worktree. */
  plan?: Plan;
  cleanup?: () => Promise<void>;
}

/** Takes the base's allocation sites for the scenarios that have head sites, so the comment can diff them. */
async function attributeBase(head: Report, base: Report, basePlan: Plan): Promise<Report> {
  const have = new Set(scenariosWithSites(base));
  const wanted = scenariosWithSites(head).filter((name) => !have.has(name));
  if (wanted.length === 0) return head;
  core.startGroup(`membudget: allocation sites at the base for ${wanted.join(", ")}`);
  try {
    const withSites = await attributeSites(basePlan, base, {
      scenarios: wanted,
      ...progressPrinter(process.stdout, false),
    });
    return judgeReport(head, withSites);
  } catch (err) {
    core.warning(`membudget could not take the base's allocation sites: ${(err as Error).message}`);
    return head;
  } finally {
    core.endGroup();
  }
}

async function baseReport(settings: Settings, plan: Plan): Promise<BaseResult | undefined> {
  const compare = settings.compare;
  if (compare.kind === "none") return undefined;
  if (compare.kind === "report") {
    return { report: readReport(compare.path), source: workspacePath(settings, compare.path) };
  }
  const pr = settings.github.pullRequest;
  if (!pr) {
    core.info(
      `membudget: compare is "base" but this ${settings.github.eventName || "run"} is not a pull request: no base to compare with.`,
    );
    return undefined;
  }
  core.startGroup(`membudget: measuring the base (${pr.baseRef || "base"} at ${pr.baseSha.slice(0, 7)})`);
  let worktree: Awaited<ReturnType<typeof prepareBaseWorktree>> | undefined;
  try {
    worktree = await prepareBaseWorktree({
      repoDir: settings.workingDirectory,
      sha: pr.baseSha,
      ...(pr.baseRef ? { fallbackRef: pr.baseRef } : {}),
    });
    const where = worktree;
    // The budget file as it is at the head; each scenario runs in the same place of the base tree.
    const basePlan: Plan = {
      ...plan,
      scenarios: plan.scenarios.map((s) => ({
        ...s,
        cwd: resolve(where.dir, relative(where.headRoot, s.cwd)),
      })),
    };
    const report = await runPlan(basePlan, {
      only: settings.only,
      commit: pr.baseSha,
      ...progressPrinter(process.stdout, false),
    });
    const cleanup = () => where.cleanup();
    return { report, source: `base ${pr.baseSha.slice(0, 7)}`, plan: basePlan, cleanup };
  } catch (err) {
    await worktree?.cleanup();
    const message = `membudget could not measure the base commit ${pr.baseSha.slice(0, 7)}: ${(err as Error).message}`;
    core.warning(message);
    return { source: "base", note: `${message}; figures are shown without deltas.` };
  } finally {
    core.endGroup();
  }
}

async function publish(settings: Settings, report: Report): Promise<void> {
  writeReport(settings.reportPath, report);
  await core.summary.addRaw(renderMarkdown(report, { limit: SUMMARY_LIMIT, open: true })).write();
  for (const a of annotationsOf(report, workspacePath(settings, settings.budgets))) {
    const props = { title: a.title, file: a.file, startLine: a.line };
    if (a.level === "error") core.error(a.message, props);
    else core.warning(a.message, props);
  }
  const failed = failedScenarios(report, settings.failOn);
  core.setOutput("status", report.status === "unbudgeted" ? "pass" : report.status);
  core.setOutput("report", settings.reportPath);
  core.setOutput("failed", failed.join("\n"));

  const url = await comment(settings, report);
  core.setOutput("comment-url", url ?? "");

  core.info(`membudget: ${report.summary}`);
  if (failed.length > 0) {
    core.setFailed(`membudget: ${report.summary} (${failed.join(", ")})`);
  }
}

/** The scenarios that fail the step under `fail-on`. */
export function failedScenarios(report: Report, failOn: FailOn): string[] {
  if (failOn === "never") return [];
  const failing = new Set(failOn === "regressed" ? ["error", "over", "regressed"] : ["error", "over"]);
  return report.scenarios.filter((s) => failing.has(s.status)).map((s) => s.name);
}

async function comment(settings: Settings, report: Report): Promise<string | undefined> {
  const pr = settings.github.pullRequest;
  if (!pr || settings.comment === "never") {
    if (!pr && settings.comment !== "never")
      core.info(
        `membudget: no pull request in a ${settings.github.eventName || "local"} run: the job summary holds the table.`,
      );
    return undefined;
  }
  return postComment(settings, report, pr.number, settings.commentKey, settings.comment);
}

async function postComment(
  settings: Settings,
  report: Report,
  issueNumber: number,
  key: string,
  mode: CommentMode,
): Promise<string | undefined> {
  const attention = report.scenarios.some(needsAttention);
  const moved = report.scenarios.some(
    (s) =>
      s.status === "new" ||
      s.status === "removed" ||
      Object.values(s.metrics).some(
        (m) => m.delta !== undefined && Math.abs(m.delta) > s.tolerance && m.deterministic,
      ),
  );
  // always/from-report: create or update; auto: create only when something needs attention, else
  // update one already there (so it says all passes now); on-change: delete it once nothing moved.
  const action: "upsert" | "update" | "delete" =
    mode === "always" || mode === "from-report" || attention
      ? "upsert"
      : mode === "on-change"
        ? moved
          ? "upsert"
          : "delete"
        : "update";
  const result = await upsertStickyComment({
    token: settings.token,
    apiUrl: settings.github.apiUrl,
    owner: settings.github.owner,
    repo: settings.github.repo,
    issueNumber,
    key,
    body: renderMarkdown(report),
    mode: action,
  });
  if (result.warning) core.warning(result.warning);
  core.info(`membudget: pull request comment ${result.action}${result.url ? `: ${result.url}` : ""}`);
  return result.url;
}

/** The second half of the fork pull request pattern: post the comment a pull_request job could not. */
async function commentFromReport(settings: Settings): Promise<void> {
  const report = readReport(settings.reportPath);
  const pr = report.pullRequest;
  if (!pr) {
    throw new BudgetFileError(settings.reportPath, [
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
  // The report comes from the pull request's own (untrusted) job: comment only on the pull request
  // whose head is the commit that the triggering workflow run measured.
  const run = settings.github.workflowRun;
  if (run) {
    if (pr.headSha !== run.headSha) {
      throw new Error(
        `refusing to comment: the report is for commit ${String(pr.headSha).slice(0, 7)}, but the workflow run measured ${run.headSha.slice(0, 7)}`,
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
  }
  const url = await postComment(
    { ...settings, github: { ...settings.github, owner: owner!, repo: repo! } },
    report,
    pr.number,
    pr.commentKey ?? settings.commentKey,
    "from-report",
  );
  core.setOutput("status", report.status === "unbudgeted" ? "pass" : report.status);
  core.setOutput("report", settings.reportPath);
  core.setOutput("failed", failedScenarios(report, settings.failOn).join("\n"));
  core.setOutput("comment-url", url ?? "");
  await core.summary.addRaw(renderMarkdown(report, { limit: SUMMARY_LIMIT, open: true })).write();
}

function workspacePath(settings: Settings, file: string): string {
  const rel = relative(settings.github.workspace, file);
  return rel.startsWith("..") ? file : rel;
}
