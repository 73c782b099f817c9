// `membudget run`: measure the scenarios of a budget file and judge them.
import { dirname, resolve } from "node:path";
import { loadPlan } from "../../config/load.js";
import { costsOf, parseShard } from "../../config/shard.js";
import { runPlan } from "../../engine/engine.js";
import { headCommit } from "../../git/git.js";
import { UsageError } from "../../model/errors.js";
import { displayPath } from "../../model/paths.js";
import { progressPrinter } from "../../render/progress.js";
import { readReport } from "../../report/io.js";
import { defineCommand } from "../command.js";
import { exitCodeFor } from "../exit.js";
import { budgetsOption, outputOptions } from "../options.js";
import { publish } from "../publish.js";

export const run = defineCommand({
  command: "run",
  describe: "Run the scenarios of a budget file, measure them and check their budgets",
  builder: (y) =>
    budgetsOption(outputOptions(y))
      .option("base", { type: "string", describe: "A report of the base (e.g. main) to compare with" })
      .option("only", { type: "array", string: true, describe: "Run only these scenarios (by name)" })
      .option("repeat", { type: "number", describe: "Override every scenario's repeat count" })
      .option("shard", {
        type: "string",
        describe:
          "Measure only shard i of n of the selected scenarios (i/n, e.g. 2/4); `merge` joins the shards",
      })
      .option("balance", {
        type: "string",
        describe: "A report made earlier: split the shards by its wall times (needs --shard)",
      })
      .option("verbose", {
        alias: "v",
        type: "boolean",
        default: false,
        describe: "Stream the workloads' output",
      })
      .example("$0 run", "Run membudget.json in this directory")
      .example(
        "$0 run -b budgets.json --report out/report.json --markdown out/comment.md",
        "Also write the report and the markdown table",
      )
      .example(
        "$0 run --base main-report.json --fail-on regressed",
        "Fail when a figure grew past its tolerance against main",
      )
      .example("$0 run --only load-catalog -v", "One scenario, with its output")
      .example(
        "$0 run --shard 2/4 --balance last-report.json --report shard-2.json",
        "The second of four shards, balanced by the last run's wall times",
      )
      .example(
        "$0 run --base main-report.json --chart charts/",
        "Also draw each scenario's memory over the run",
      ),
  async handler(argv) {
    const plan = loadPlan(argv.budgets);
    if (argv.repeat !== undefined) {
      if (!Number.isInteger(argv.repeat) || argv.repeat < 1)
        throw new UsageError("--repeat takes a whole number ≥ 1");
      for (const s of plan.scenarios) s.repeat = argv.repeat;
    }
    const base = argv.base ? readReport(argv.base) : undefined;
    const shard = argv.shard !== undefined ? parseShard(argv.shard, "--shard") : undefined;
    if (argv.balance !== undefined && !shard) throw new UsageError("--balance needs --shard i/n");
    const balance = argv.balance !== undefined ? costsOf(readReport(argv.balance)) : undefined;
    // Ctrl-C stops the running workload's whole process group, then membudget itself.
    const cancel = new AbortController();
    const onSignal = () => cancel.abort();
    process.once("SIGINT", onSignal).once("SIGTERM", onSignal);
    const commit = headCommit(dirname(plan.file));
    const report = await runPlan(plan, {
      signal: cancel.signal,
      ...(commit ? { commit } : {}),
      only: argv.only,
      ...(shard ? { shard } : {}),
      ...(balance ? { balance, balanceSource: displayPath(resolve(argv.balance!), process.cwd()) } : {}),
      ...(base ? { base, baseSource: displayPath(resolve(argv.base!), process.cwd()) } : {}),
      budgetFileLabel: displayPath(plan.file, process.cwd()),
      ...progressPrinter(process.stderr, argv.verbose),
    });
    publish(report, argv);
    return exitCodeFor(report, argv["fail-on"]);
  },
});
