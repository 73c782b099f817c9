// `membudget run`: measure the scenarios of a budget file and judge them.
import { defineCommand } from "../command.js";
import { budgetsOption, outputOptions } from "../options.js";

export const run = defineCommand({
  command: "run",
  describe: "Run the scenarios of a budget file, measure them and check their budgets",
  builder: (y) =>
    budgetsOption(outputOptions(y))
      .option("base", { type: "string", describe: "A report of the base (e.g. main) to compare with" })
      .option("only", { type: "array", string: true, describe: "Run only these scenarios (by name)" })
      .option("repeat", { type: "number", describe: "Override every scenario's repeat count" })
      .option("clean-run", {
        type: "boolean",
        describe:
          'With one repeat, give every Python or native scenario its clean run (time and RSS measured), as "cleanRun": "always"',
      })
      .option("shard", {
        type: "string",
        describe:
          "Measure only shard i of n of the selected scenarios (i/n, e.g. 2/4); `merge` joins the shards",
      })
      .option("balance", {
        type: "string",
        describe: "A report made earlier: split the shards by its wall times (needs --shard)",
      })
      .option("jobs", {
        alias: "j",
        type: "number",
        describe:
          "Probed runs (heap figures, which do not depend on timing) measured side by side; runs that give time or RSS always run alone (default: the CPU count; 1 with --verbose)",
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
  // The work loads when the command runs (see command.ts).
  handler: async (argv) => (await import("../handlers/run.js")).runCommand(argv),
});
