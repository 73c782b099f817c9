// `membudget merge`: one report from the reports of several jobs (shards of a matrix), judged as one.
import { defineCommand } from "../command.js";
import { outputOptions } from "../options.js";

export const merge = defineCommand({
  command: "merge <reports..>",
  describe: "Merge reports of separate jobs (e.g. the shards of a matrix) into one, and judge it",
  builder: (y) =>
    outputOptions(y)
      .positional("reports", { type: "string", array: true, demandOption: true, describe: "Report files" })
      .option("output", {
        alias: "o",
        type: "string",
        describe: "The merged report file (same as --report)",
      })
      .example("$0 merge shard-*.json -o report.json", "One report from several jobs")
      .example(
        "$0 merge shards/*/membudget-report.json -o report.json --markdown comment.md",
        "Shards of `run --shard i/n`: every shard must be there (exit 3 names a missing one)",
      ),
  handler: async (argv) =>
    (await import("../handlers/merge.js")).mergeCommand({ ...argv, reports: argv.reports as string[] }),
});
