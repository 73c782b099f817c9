// The Action: a thin adapter that reads the settings, runs the engine (head, and base in a worktree),
// and publishes the report (file, job summary, annotations, outputs, sticky comment, exit status).

import * as core from "@actions/core";
import { loadPlan } from "../config/plan.js";
import { type Selection, select } from "../config/select.js";
import type { Plan } from "../config/types.js";
import { runPlan } from "../engine/engine.js";
import { BudgetFileError, CancelledError } from "../model/errors.js";
import type { Report } from "../model/report.js";
import { plural } from "../model/units.js";
import { progressPrinter } from "../render/progress.js";
import { withTrend } from "../verdict/trend.js";
import { attributeBase, BaseAssembly, type BaseResult, fixedBase, withBaseOrigins } from "./base.js";
import { commentFromReport } from "./from-report.js";
import { readSettings, type Settings } from "./inputs.js";
import { mergeShards } from "./merge.js";
import { choicesOf, headProvenance } from "./provenance.js";
import { publish, setErrorStatus } from "./publish.js";
import { branchReports } from "./trend.js";
import { workspacePath } from "./workspace.js";

/**
 * The runner cancels a job with SIGINT (then SIGTERM, then SIGKILL): the running workload is
 * stopped, the base worktree and the run folders are removed, and the step ends with 130 or 143
 * (main.ts), so that a self-hosted runner keeps no worktree registered in .git/worktrees and nothing
 * of membudget's in its temp folder.
 */
let cancelledBy: NodeJS.Signals | undefined;
/** The signal that cancelled the last run(), if one did. */
export const cancelSignal = (): NodeJS.Signals | undefined => cancelledBy;

export async function run(): Promise<void> {
  // One per run: GitHub's local runner may call run() more than once in a process.
  const cancellation = new AbortController();
  cancelledBy = undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    cancelledBy ??= signal;
    cancellation.abort();
  };
  process.on("SIGINT", onSignal).on("SIGTERM", onSignal);
  try {
    await runSteps(cancellation.signal);
  } finally {
    process.off("SIGINT", onSignal).off("SIGTERM", onSignal);
  }
}

async function runSteps(signal: AbortSignal): Promise<void> {
  const settings = readSettings();
  if (settings.merge) {
    await mergeShards(settings);
    return;
  }
  if (settings.comment === "from-report") {
    await commentFromReport(settings);
    return;
  }
  let plan: Plan;
  try {
    plan = loadPlan(settings.budgets);
  } catch (err) {
    if (err instanceof BudgetFileError) {
      setErrorStatus();
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

  const selection = select(plan, choicesOf(settings));
  const pr = settings.github.pullRequest;
  const assembly =
    settings.compare.kind === "base" && pr ? new BaseAssembly(settings, selection, pr, signal) : undefined;
  const base = assembly?.result ?? fixedBase(settings);
  try {
    await measureHead(settings, selection, base, assembly, signal);
  } finally {
    // The base worktree stays until the head is judged: the base's allocation sites are taken
    // afterwards, for the scenarios whose head turned out to need them.
    await base?.cleanup?.();
  }
}

async function measureHead(
  settings: Settings,
  selection: Selection,
  base: BaseResult | undefined,
  assembly: BaseAssembly | undefined,
  signal: AbortSignal,
): Promise<void> {
  const pr = settings.github.pullRequest;
  const n = selection.plan.scenarios.length;
  core.startGroup(
    `membudget: measuring ${settings.shard ? `shard ${settings.shard.index} of ${settings.shard.total}: ` : ""}${plural(n, "scenario")}${pr ? ` at the head (${pr.headSha.slice(0, 7)})` : ""}`,
  );
  let report: Report;
  try {
    report = await runPlan({
      selection,
      ...(assembly
        ? { resolveBase: (head: Report) => assembly.resolve(head) }
        : base?.report
          ? { base: base.report }
          : {}),
      // The assembled base's source and note are known once it is resolved (below).
      provenance: headProvenance(settings, assembly ? undefined : base),
      hooks: { signal, ...progressPrinter(process.stdout, false) },
      jobs: settings.jobs,
      // A run that is not a pull request's (main's push) may become a later pull request's stored
      // base: every scenario keeps its sampled sites (ten a list), so the head's site diff needs
      // no run at the base.
      ...(pr ? {} : { keepSites: true }),
    });
  } finally {
    core.endGroup();
  }
  if (base?.report && base.plan) report = await attributeBase(report, base.report, base.plan, signal);
  if (assembly && base?.note) report.notes = [...(report.notes ?? []), base.note];
  if (base?.origins) report = withBaseOrigins(report, base.origins);
  // Only when something regressed or is over budget: the stored reports cost the job token's
  // requests (two per report), which a busy repository's pull requests would use up.
  if (pr && report.scenarios.some((s) => s.status === "over" || s.status === "regressed")) {
    const { stored, branch } = await branchReports(settings);
    report = withTrend(report, stored, branch);
  }
  // Cancelled after the last workload: nothing is published for a job the user stopped.
  if (signal.aborted) throw new CancelledError();
  await publish(settings, report);
}
