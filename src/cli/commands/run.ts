// The work of `membudget run` (main.ts imports it when the command runs): measure and judge.
import { dirname, resolve } from "node:path";
import { loadPlan } from "../../config/plan.js";
import { type Choices, costsOf, parseShard, select } from "../../config/select.js";
import type { Plan } from "../../config/types.js";
import { runPlan } from "../../engine/engine.js";
import { defaultJobs } from "../../engine/schedule.js";
import { headCommit } from "../../git/git.js";
import { UsageError } from "../../model/errors.js";
import { displayPath } from "../../model/paths.js";
import type { Provenance, Report } from "../../model/report.js";
import { progressPrinter } from "../../render/progress.js";
import { exitCodeFor } from "../exit.js";
import { type OutputArgs, publish } from "../publish.js";

export interface RunArgs extends OutputArgs {
  budgets: string;
  base?: string;
  only?: string[];
  repeat?: number;
  "clean-run"?: boolean;
  shard?: string;
  balance?: string;
  jobs?: number;
  verbose: boolean;
}

export async function runCommand(argv: RunArgs): Promise<number> {
  const plan = loadPlan(argv.budgets);
  const selection = select(plan, await choicesOf(argv));
  const base = argv.base ? await readReport(argv.base) : undefined;
  if (argv.jobs !== undefined && (!Number.isInteger(argv.jobs) || argv.jobs < 1))
    throw new UsageError("--jobs takes a whole number ≥ 1");
  // Ctrl-C stops the running workload's whole process group, then membudget itself.
  const cancel = new AbortController();
  const onSignal = () => cancel.abort();
  process.once("SIGINT", onSignal).once("SIGTERM", onSignal);
  const report = await runPlan({
    selection,
    ...(base ? { base } : {}),
    provenance: provenanceOf(argv, plan),
    hooks: { signal: cancel.signal, ...progressPrinter(process.stderr, argv.verbose) },
    // With --verbose the workloads' output is streamed: one at a time, so that it does not interleave.
    jobs: argv.jobs ?? (argv.verbose ? 1 : defaultJobs()),
  });
  await publish(report, argv);
  return exitCodeFor(report, argv["fail-on"]);
}

/** The flags that choose what runs, as the selection takes them. */
async function choicesOf(argv: RunArgs): Promise<Choices> {
  const shard = argv.shard !== undefined ? parseShard(argv.shard, "--shard") : undefined;
  if (argv.balance !== undefined && !shard) throw new UsageError("--balance needs --shard i/n");
  return {
    ...(argv.only ? { only: argv.only } : {}),
    ...(argv.repeat !== undefined ? { repeat: argv.repeat } : {}),
    ...(argv["clean-run"] ? { cleanRun: true } : {}),
    ...(shard ? { shard } : {}),
    ...(argv.balance !== undefined
      ? { balance: { costs: costsOf(await readReport(argv.balance)), source: shown(argv.balance) } }
      : {}),
  };
}

/** Where the report comes from: the budget file and the base as the user named them, and HEAD. */
function provenanceOf(argv: RunArgs, plan: Plan): Provenance {
  const commit = headCommit(dirname(plan.file));
  return {
    budgetFile: displayPath(plan.file, process.cwd()),
    ...(commit ? { commit } : {}),
    ...(argv.base ? { baseSource: shown(argv.base) } : {}),
  };
}

const shown = (file: string) => displayPath(resolve(file), process.cwd());

/** The report schema's validator loads only when a run reads a report (`--base`, `--balance`). */
async function readReport(file: string): Promise<Report> {
  return (await import("../../report/io.js")).readReport(file);
}
