// Merges reports of separate jobs (a matrix, shards) into one. Shard reports are checked first: every
// shard 1…n exactly once, all of one run (same n, split, budget file, commits); a missing shard is
// said in the merged report's `error`, never left to look green.
import { UsageError } from "../model/errors.js";
import type { Provenance, Report, ScenarioReport } from "../model/report.js";
import { overallStatus, verdictSentence } from "../model/status.js";
import { withError } from "../verdict/judge.js";

export interface ReportFile {
  /** The file as the user named it: messages say which one is wrong. */
  file: string;
  report: Report;
}

/** Shard reports that cannot be of one run (a duplicate, another n, budget file or commit): exit 2. */
export class ShardMismatchError extends UsageError {
  constructor(message: string) {
    super(message);
    this.name = "ShardMismatchError";
  }
}

/**
 * One report from several. Each scenario keeps the verdict its own job gave it, against that job's
 * base; the totals are computed anew. Without shard identities the reports are combined when they
 * are of one commit and name each scenario once; an error one of them carries (a missing shard)
 * stays.
 */
export function mergeReports(
  inputs: readonly ReportFile[],
  provenance: Pick<Provenance, "links" | "pullRequest"> = {},
): Report {
  const first = inputs[0];
  if (!first) throw new UsageError("nothing to merge: no report files");
  const sharded = inputs.filter((i) => i.report.shard);
  if (sharded.length === 0) {
    checkPlainReports(inputs);
    return combine(
      inputs.map((i) => i.report),
      undefined,
      provenance,
    );
  }
  const plain = inputs.find((i) => !i.report.shard);
  if (plain) {
    throw new ShardMismatchError(
      `${plain.file} is not a shard report (made without --shard), but ${sharded[0]!.file} is ${shardName(sharded[0]!.report)}: merge the shards of one run only`,
    );
  }
  checkOneRun(inputs);
  const shard = first.report.shard!;
  const byIndex = new Map<number, ReportFile>();
  for (const input of inputs) {
    const index = input.report.shard!.index;
    const twice = byIndex.get(index);
    if (twice) {
      throw new ShardMismatchError(
        `${shardName(input.report)} twice: ${twice.file} and ${input.file} (a re-run leg uploaded again? keep one report per shard)`,
      );
    }
    byIndex.set(index, input);
    checkScenarios(input);
  }
  const missing: number[] = [];
  for (let i = 1; i <= shard.total; i++) if (!byIndex.has(i)) missing.push(i);
  const ordered = [...byIndex.keys()].sort((a, b) => a - b).map((i) => byIndex.get(i)!.report);
  const merged = combine(ordered, shard.selected, provenance);
  const { shard: _one, ...rest } = merged;
  const error = [
    ...missing.map((i) => `shard ${i} of ${shard.total}: no report`),
    ...(merged.error ? [merged.error] : []),
  ].join("; ");
  const notes = missing.map(
    (i) =>
      `shard ${i} of ${shard.total} sent no report, so these scenarios were not measured: ${namesOf(shard, i).join(", ") || "(none)"}`,
  );
  return {
    ...rest,
    shards: { total: shard.total, merged: [...byIndex.keys()].sort((a, b) => a - b) },
    ...(error
      ? {
          error,
          status: "error",
          summary: withError(error, verdictSentence(merged.scenarios)),
          notes: [...notes, ...(merged.notes ?? [])],
        }
      : {}),
  };
}

/** The merging job's links and pull request win over the first report's. */
function combine(
  reports: Report[],
  order: string[] | undefined,
  provenance: Pick<Provenance, "links" | "pullRequest">,
): Report {
  const first = reports[0]!;
  const byName = new Map<string, ScenarioReport>();
  const removed = new Map<string, ScenarioReport>();
  for (const r of reports) {
    for (const s of r.scenarios) {
      // Every shard judged against a whole base names the same removed scenarios: keep one.
      if (s.status === "removed") removed.set(s.name, s);
      else byName.set(s.name, s);
    }
  }
  const rank = new Map((order ?? []).map((name, i) => [name, i]));
  const measured = [...byName.values()];
  if (order) measured.sort((a, b) => (rank.get(a.name) ?? 0) - (rank.get(b.name) ?? 0));
  const scenarios = [...measured, ...[...removed.values()].filter((s) => !byName.has(s.name))];
  const notes = [...new Set(reports.flatMap((r) => r.notes ?? []))];
  const { notes: _n, error: _e, ...rest } = first;
  // A merged report that said a shard was missing says so again: merging it once more must not
  // turn the lost shard green.
  const error = [...new Set(reports.flatMap((r) => (r.error ? [r.error] : [])))].join("; ");
  const summary = verdictSentence(scenarios);
  return {
    ...rest,
    createdAt: new Date().toISOString(),
    scenarios,
    status: error ? "error" : overallStatus(scenarios),
    summary: error ? withError(error, summary) : summary,
    ...(notes.length ? { notes } : {}),
    ...(provenance.links ? { links: provenance.links } : {}),
    ...(provenance.pullRequest ? { pullRequest: provenance.pullRequest } : {}),
    ...(error ? { error } : {}),
  };
}

/**
 * Reports without shard identities (a matrix of jobs, or merged reports) are of one run: the same
 * head commit and budget file, and no scenario in two of them (a later file must not silently
 * replace an over-budget verdict with a stale one).
 */
function checkPlainReports(inputs: readonly ReportFile[]): void {
  const first = inputs[0]!;
  const seen = new Map<string, string>();
  for (const input of inputs) {
    const { report } = input;
    if (input !== first) {
      const differ = (what: string, x: unknown, y: unknown) => {
        throw new ShardMismatchError(
          `${input.file} and ${first.file} are not of one run: ${what} differ (${String(y)} and ${String(x)}); merge the reports of one commit only`,
        );
      };
      if (report.commit !== first.report.commit)
        differ("the head commits", first.report.commit ?? "none", report.commit ?? "none");
      if (
        report.budgetDigest &&
        first.report.budgetDigest &&
        report.budgetDigest !== first.report.budgetDigest
      )
        differ("the budget files' digests", first.report.budgetDigest, report.budgetDigest);
    }
    for (const s of report.scenarios) {
      if (s.status === "removed") continue;
      const other = seen.get(s.name);
      if (other !== undefined) {
        throw new ShardMismatchError(
          `the scenario ${JSON.stringify(s.name)} is in both ${other} and ${input.file}: merge reports of separate scenarios (a job's report uploaded twice, or a stale one? keep one)`,
        );
      }
      seen.set(s.name, input.file);
    }
  }
}

/** Same n, split, budget file, head and base commits and pull request as the first shard. */
function checkOneRun(inputs: readonly ReportFile[]): void {
  const first = inputs[0]!;
  const a = first.report;
  for (const input of inputs.slice(1)) {
    const b = input.report;
    const differ = (what: string, x: unknown, y: unknown) => {
      throw new ShardMismatchError(
        `${input.file} (${shardName(b)}) and ${first.file} (${shardName(a)}) are not of one run: ${what} differ (${String(y)} and ${String(x)})`,
      );
    };
    if (b.shard!.total !== a.shard!.total) differ("the shard counts", a.shard!.total, b.shard!.total);
    if (b.budgetDigest !== a.budgetDigest)
      differ("the budget files' digests", a.budgetDigest, b.budgetDigest);
    if (b.commit !== a.commit) differ("the head commits", a.commit, b.commit);
    if (a.base?.commit && b.base?.commit && a.base.commit !== b.base.commit)
      differ("the base commits", a.base.commit, b.base.commit);
    if (b.pullRequest?.number !== a.pullRequest?.number)
      differ("the pull requests", a.pullRequest?.number, b.pullRequest?.number);
    if (
      JSON.stringify(b.shard!.selected) !== JSON.stringify(a.shard!.selected) ||
      JSON.stringify(b.shard!.assigned) !== JSON.stringify(a.shard!.assigned)
    ) {
      throw new ShardMismatchError(
        `${input.file} (${shardName(b)}) split the scenarios differently from ${first.file} (${shardName(a)}): every shard needs the same budget file, \`only\` and \`balance\` report`,
      );
    }
  }
}

/** A shard report holds exactly the scenarios its split gives it. */
function checkScenarios({ file, report }: ReportFile): void {
  const shard = report.shard!;
  if (shard.index > shard.total || shard.assigned.length !== shard.selected.length) {
    throw new ShardMismatchError(`${file}: its shard identity is not consistent (${shardName(report)})`);
  }
  const want = new Set(namesOf(shard, shard.index));
  const have = report.scenarios.filter((s) => s.status !== "removed").map((s) => s.name);
  const extra = have.filter((n) => !want.has(n));
  const lacking = [...want].filter((n) => !have.includes(n));
  if (extra.length > 0 || lacking.length > 0) {
    throw new ShardMismatchError(
      `${file} (${shardName(report)}) does not hold the scenarios its split gives it${extra.length ? `; extra: ${extra.join(", ")}` : ""}${lacking.length ? `; lacking: ${lacking.join(", ")}` : ""}`,
    );
  }
}

function namesOf(shard: NonNullable<Report["shard"]>, index: number): string[] {
  return shard.selected.filter((_, i) => shard.assigned[i] === index);
}

function shardName(report: Report): string {
  return `shard ${report.shard!.index} of ${report.shard!.total}`;
}
