// The Action: a thin adapter that reads the settings, runs the engine (head, and base in a worktree),
// and publishes the report (file, job summary, annotations, outputs, sticky comment, exit status).

import * as core from "@actions/core";
import { loadPlan } from "../config/plan.js";
import { type Selection, select } from "../config/select.js";
import type { Plan } from "../config/types.js";
import { runPlan } from "../engine/engine.js";
import { BudgetFileError } from "../model/errors.js";
import type { Report } from "../model/report.js";
import { plural } from "../model/units.js";
import { progressPrinter } from "../render/progress.js";
import { attributeBase, type BaseResult, baseReport } from "./base.js";
import { commentFromReport } from "./from-report.js";
import { readSettings, type Settings } from "./inputs.js";
import { mergeShards } from "./merge.js";
import { choicesOf, headProvenance } from "./provenance.js";
import { publish } from "./publish.js";
import { workspacePath } from "./workspace.js";

export async function run(): Promise<void> {
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

  const selection = select(plan, choicesOf(settings));
  const base = await baseReport(settings, selection);
  try {
    await measureHead(settings, selection, base);
  } finally {
    // The base worktree stays until the head is measured: the base's allocation sites are taken
    // afterwards, for the scenarios whose head turned out to need them.
    await base?.cleanup?.();
  }
}

async function measureHead(
  settings: Settings,
  selection: Selection,
  base: BaseResult | undefined,
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
      ...(base?.report ? { base: base.report } : {}),
      provenance: headProvenance(settings, base),
      hooks: progressPrinter(process.stdout, false),
      // A push's report is the base a later pull request reuses: it keeps every scenario's
      // sampled sites (at most SITE_LIMIT per list; shown only where a scenario needs attention),
      // so the head's sites are diffed against it without a run on the base.
      ...(pr ? {} : { keepSites: true }),
    });
  } finally {
    core.endGroup();
  }
  if (base?.report && base.plan) report = await attributeBase(report, base.report, base.plan);
  await publish(settings, report);
}
