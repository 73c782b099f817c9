// The work of `membudget run` (commands/run.ts imports it when the command runs): measure and judge.
import { dirname, resolve } from "node:path";
import { loadPlan } from "../../config/load.js";
import { costsOf, parseShard } from "../../config/shard.js";
import { runPlan } from "../../engine/engine.js";
import { defaultJobs } from "../../engine/schedule.js";
import { headCommitAsync } from "../../git/git.js";
import { UsageError } from "../../model/errors.js";
import { displayPath } from "../../model/paths.js";
import { progressPrinter } from "../../render/progress.js";
import { exitCodeFor } from "../exit.js";
import { type OutputArgs, publish } from "../publish.js";
import { readReport } from "./read.js";

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
  if (argv.repeat !== undefined) {
    if (!Number.isInteger(argv.repeat) || argv.repeat < 1)
      throw new UsageError("--repeat takes a whole number ≥ 1");
    for (const s of plan.scenarios) s.repeat = argv.repeat;
  }
  if (argv["clean-run"]) for (const s of plan.scenarios) s.cleanRun = "always";
  const base = argv.base ? await readReport(argv.base) : undefined;
  const shard = argv.shard !== undefined ? parseShard(argv.shard, "--shard") : undefined;
  if (argv.balance !== undefined && !shard) throw new UsageError("--balance needs --shard i/n");
  const balance = argv.balance !== undefined ? costsOf(await readReport(argv.balance)) : undefined;
  if (argv.jobs !== undefined && (!Number.isInteger(argv.jobs) || argv.jobs < 1))
    throw new UsageError("--jobs takes a whole number ≥ 1");
  // With --verbose the workloads' output is streamed: one at a time, so that it does not interleave.
  const jobs = argv.jobs ?? (argv.verbose ? 1 : defaultJobs());
  // Ctrl-C stops the running workload's whole process group, then membudget itself.
  const cancel = new AbortController();
  const onSignal = () => cancel.abort();
  process.once("SIGINT", onSignal).once("SIGTERM", onSignal);
  const report = await runPlan(plan, {
    signal: cancel.signal,
    // git runs while the first workload does.
    commit: () => headCommitAsync(dirname(resolve(argv.budgets))),
    only: argv.only,
    jobs,
    ...(shard ? { shard } : {}),
    ...(balance ? { balance, balanceSource: displayPath(resolve(argv.balance!), process.cwd()) } : {}),
    ...(base ? { base, baseSource: displayPath(resolve(argv.base!), process.cwd()) } : {}),
    budgetFileLabel: displayPath(plan.file, process.cwd()),
    ...progressPrinter(process.stderr, argv.verbose),
  });
  await publish(report, argv);
  return exitCodeFor(report, argv["fail-on"]);
}
