// The pull request's base, for comparison: a report given as a file, or the base commit's stored report
// reused scenario by scenario, the rest measured in a worktree.
import { relative, resolve } from "node:path";
import * as core from "@actions/core";
import type { Selection } from "../config/select.js";
import type { Plan } from "../config/types.js";
import { attributeSites, runPlan, scenariosWithSites } from "../engine/engine.js";
import { storedReportOf } from "../github/artifacts.js";
import { CancelledError } from "../model/errors.js";
import type { BaseOrigin, Report, ScenarioReport } from "../model/report.js";
import { progressPrinter } from "../render/progress.js";
import { parseReport, readReport } from "../report/io.js";
import { withSiteDiffs } from "../verdict/judge.js";
import { type Reuse, reuseStored } from "../verdict/reuse.js";
import { prepareBaseWorktree } from "./base-worktree.js";
import { type PullRequestInfo, type Settings, storedReportsTarget } from "./inputs.js";
import { workspacePath } from "./workspace.js";

export interface BaseResult {
  report?: Report;
  source: string;
  /** Said in the report when the base could not be had. */
  note?: string;
  /** When the base was measured here: its plan (in the worktree) and how to remove the worktree. */
  plan?: Plan;
  cleanup?: () => Promise<void>;
  /** Where each scenario's base figures came from, when the base was assembled scenario by scenario. */
  origins?: Map<string, BaseOrigin>;
}

/**
 * The base when it needs no measuring: a report given as a file, or none (`compare: none`, or
 * `compare: base` off a pull request). `compare: base` on a pull request is a BaseAssembly.
 */
export function fixedBase(settings: Settings): BaseResult | undefined {
  const compare = settings.compare;
  if (compare.kind === "none") return undefined;
  if (compare.kind === "report") {
    return { report: readReport(compare.path), source: workspacePath(settings, compare.path) };
  }
  core.info(
    `membudget: compare is "base" but this ${settings.github.eventName || "run"} is not a pull request: no base to compare with.`,
  );
  return undefined;
}

/**
 * The base of a pull request, assembled once the head is measured: each scenario's figures from
 * the base commit's stored report where what produced them matches the head's, the others measured
 * in a worktree of the base commit. The stored report is looked for while the head is measured.
 */
export class BaseAssembly {
  readonly result: BaseResult;
  private readonly stored: Promise<Stored>;

  constructor(
    private readonly settings: Settings,
    private readonly selection: Selection,
    private readonly pr: PullRequestInfo,
    /** Cancels the base's measurement (the job was cancelled): its worktree is removed first. */
    private readonly signal?: AbortSignal,
  ) {
    this.result = { source: `base ${pr.baseSha.slice(0, 7)}` };
    this.stored = storedBase(settings, pr.baseSha);
    // Awaited in resolve(); an early rejection must not be reported as unhandled meanwhile.
    this.stored.catch(() => undefined);
  }

  /** For the engine's `resolveBase`: the head measured, the base it is judged against. */
  async resolve(head: Report): Promise<{ report: Report; source: string } | undefined> {
    const { pr, settings } = this;
    const stored = await this.stored;
    const short = pr.baseSha.slice(0, 7);
    let reuse: Reuse = { reused: new Map(), measure: new Map(head.scenarios.map((s) => [s.name, ""])) };
    if ("report" in stored) {
      reuse = reuseStored(head.scenarios, stored.report.scenarios);
      core.info(
        `membudget: the base ${short}'s stored report (${stored.where}) gives ${reuse.reused.size} of ${head.scenarios.length} scenarios.`,
      );
      for (const [name, why] of reuse.measure) core.info(`membudget: measuring ${name} at the base: ${why}.`);
    } else if (stored.missing) {
      this.result.note = `The base's figures were measured here: ${stored.missing}.`;
      core.info(`membudget: ${this.result.note}`);
    }
    let measured: BaseResult | undefined;
    if (reuse.measure.size > 0) {
      core.startGroup(
        `membudget: measuring ${reuse.measure.size === 1 ? "1 scenario" : `${reuse.measure.size} scenarios`} at the base (${pr.baseRef || "base"} at ${short})`,
      );
      try {
        measured = await measureBase(settings, this.selection, [...reuse.measure.keys()], this.signal);
      } finally {
        core.endGroup();
      }
      Object.assign(this.result, { plan: measured.plan, cleanup: measured.cleanup });
      if (measured.note) this.result.note = [this.result.note, measured.note].filter(Boolean).join(" ");
    }
    const skeleton = "report" in stored ? stored.report : measured?.report;
    if (!skeleton) return undefined;
    const origins = new Map<string, BaseOrigin>();
    const scenarios: ScenarioReport[] = [];
    const measuredByName = new Map((measured?.report?.scenarios ?? []).map((s) => [s.name, s]));
    for (const h of head.scenarios) {
      const from = reuse.reused.get(h.name);
      if (from && "report" in stored) {
        scenarios.push(from);
        origins.set(h.name, { from: "report", run: stored.runUrl ?? stored.where });
        continue;
      }
      const m = measuredByName.get(h.name);
      if (m) scenarios.push(m);
      const why = reuse.measure.get(h.name);
      origins.set(h.name, { from: "measured", ...(why ? { why } : {}) });
    }
    // The stored report's scenarios that the head's budget file no longer has: shown as removed.
    const names = new Set([...this.selection.plan.scenarios.map((s) => s.name), ...this.selection.elsewhere]);
    if ("report" in stored) scenarios.push(...stored.report.scenarios.filter((s) => !names.has(s.name)));
    this.result.origins = origins;
    const report: Report = { ...skeleton, commit: pr.baseSha, scenarios };
    this.result.report = report;
    const source = "report" in stored ? `base ${short} (stored report, ${stored.where})` : this.result.source;
    this.result.source = source;
    return { report, source };
  }
}

type Stored = { report: Report; where: string; runUrl?: string } | { missing?: string };

/** The base commit's stored report: the path the workflow restored, or the artifact of main's push run. */
async function storedBase(settings: Settings, sha: string): Promise<Stored> {
  if (settings.baseReport) {
    try {
      return { report: readReport(settings.baseReport), where: workspacePath(settings, settings.baseReport) };
    } catch (err) {
      return {
        missing: `the report ${workspacePath(settings, settings.baseReport)} cannot be read (${(err as Error).message})`,
      };
    }
  }
  if (!settings.baseArtifact) return {};
  const lookup = await storedReportOf(storedReportsTarget(settings), sha);
  if ("missing" in lookup) return { missing: lookup.missing };
  const { found } = lookup;
  let report: Report;
  try {
    report = parseReport(found.text, `${found.file} in the artifact of ${found.runUrl}`);
  } catch (err) {
    return { missing: (err as Error).message };
  }
  if (report.commit && report.commit !== sha) {
    return {
      missing: `the report stored by ${found.runUrl} is of commit ${report.commit.slice(0, 7)}, not ${sha.slice(0, 7)}`,
    };
  }
  return { report, where: `run ${found.runId}`, runUrl: found.runUrl };
}

/** Measures the named scenarios of the selection at the base commit, in a worktree. */
async function measureBase(
  settings: Settings,
  selection: Selection,
  names: string[],
  signal?: AbortSignal,
): Promise<BaseResult> {
  const pr = settings.github.pullRequest!;
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
      scenarios: selection.plan.scenarios
        .filter((s) => names.includes(s.name))
        .map((s) => ({
          ...s,
          cwd: resolve(where.dir, relative(where.headRoot, s.cwd)),
        })),
    };
    const report = await runPlan({
      selection: { ...selection, plan: basePlan },
      provenance: { commit: pr.baseSha },
      hooks: { ...(signal ? { signal } : {}), ...progressPrinter(process.stdout, false) },
      jobs: settings.jobs,
      // Sampled sites cost nothing more: kept for every scenario, the head's diff needs no base run.
      keepSites: true,
    });
    const cleanup = () => where.cleanup();
    return { report, source: `base ${pr.baseSha.slice(0, 7)}`, plan: basePlan, cleanup };
  } catch (err) {
    await worktree?.cleanup();
    // Cancelled: the step ends once the worktree is gone; it does not go on without a base.
    if (err instanceof CancelledError) throw err;
    if (signal?.aborted) throw new CancelledError();
    const message = `membudget could not measure the base commit ${pr.baseSha.slice(0, 7)}: ${(err as Error).message}`;
    core.warning(message);
    return { source: "base", note: `${message}; figures are shown without deltas.` };
  }
}

/** Takes the base's allocation sites for the scenarios that have head sites, so the comment can diff them. */
export async function attributeBase(
  head: Report,
  base: Report,
  basePlan: Plan,
  signal?: AbortSignal,
): Promise<Report> {
  const have = new Set(scenariosWithSites(base));
  const wanted = scenariosWithSites(head).filter((name) => !have.has(name));
  if (wanted.length === 0) return head;
  core.startGroup(`membudget: allocation sites at the base for ${wanted.join(", ")}`);
  try {
    const withSites = await attributeSites(basePlan, base, {
      scenarios: wanted,
      hooks: { ...(signal ? { signal } : {}), ...progressPrinter(process.stdout, false) },
    });
    return withSiteDiffs(head, withSites);
  } catch (err) {
    if (err instanceof CancelledError) throw err;
    core.warning(`membudget could not take the base's allocation sites: ${(err as Error).message}`);
    return head;
  } finally {
    core.endGroup();
  }
}

/** The head report with where each scenario's base figures came from (for the comment). */
export function withBaseOrigins(report: Report, origins: ReadonlyMap<string, BaseOrigin>): Report {
  return {
    ...report,
    scenarios: report.scenarios.map((s) => {
      const origin = origins.get(s.name);
      return origin ? { ...s, baseOrigin: origin } : s;
    }),
  };
}
