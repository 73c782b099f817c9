// The pull request's base, for comparison: a report given as a file, or the base commit measured in a worktree.
import { relative, resolve } from "node:path";
import * as core from "@actions/core";
import type { Selection } from "../config/select.js";
import type { Plan } from "../config/types.js";
import { attributeSites, runPlan, scenariosWithSites } from "../engine/engine.js";
import type { Report } from "../model/report.js";
import { progressPrinter } from "../render/progress.js";
import { readReport } from "../report/io.js";
import { withSiteDiffs } from "../verdict/judge.js";
import { prepareBaseWorktree } from "./base-worktree.js";
import type { Settings } from "./inputs.js";
import { workspacePath } from "./workspace.js";

export interface BaseResult {
  report?: Report;
  source: string;
  /** Said in the report when the base could not be had. */
  note?: string;
  /** When the base was measured here: its plan (in the worktree) and how to remove the worktree. */
  plan?: Plan;
  cleanup?: () => Promise<void>;
}

/** The base: `selection` (the head's) run in a worktree of the base commit, or a report given as a file. */
export async function baseReport(settings: Settings, selection: Selection): Promise<BaseResult | undefined> {
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
      ...selection.plan,
      scenarios: selection.plan.scenarios.map((s) => ({
        ...s,
        cwd: resolve(where.dir, relative(where.headRoot, s.cwd)),
      })),
    };
    const report = await runPlan({
      selection: { ...selection, plan: basePlan },
      provenance: { commit: pr.baseSha },
      hooks: progressPrinter(process.stdout, false),
      // Sampled sites cost nothing more: kept for every scenario, the head's diff needs no base run.
      keepSites: true,
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

/** Takes the base's allocation sites for the scenarios that have head sites, so the comment can diff them. */
export async function attributeBase(head: Report, base: Report, basePlan: Plan): Promise<Report> {
  const have = new Set(scenariosWithSites(base));
  const wanted = scenariosWithSites(head).filter((name) => !have.has(name));
  if (wanted.length === 0) return head;
  core.startGroup(`membudget: allocation sites at the base for ${wanted.join(", ")}`);
  try {
    const withSites = await attributeSites(basePlan, base, {
      scenarios: wanted,
      hooks: progressPrinter(process.stdout, false),
    });
    return withSiteDiffs(head, withSites);
  } catch (err) {
    core.warning(`membudget could not take the base's allocation sites: ${(err as Error).message}`);
    return head;
  } finally {
    core.endGroup();
  }
}
