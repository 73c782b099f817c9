// `membudget check`: judge a report (e.g. merged from shards) against the budget file's current budgets.
import { defineCommand } from "../command.js";
import { budgetsOption, outputOptions } from "../options.js";

export const check = defineCommand({
  command: "check <file>",
  describe: "Judge a report (e.g. merged from several jobs) against the budget file's current budgets",
  builder: (y) =>
    budgetsOption(outputOptions(y))
      .positional("file", { type: "string", demandOption: true, describe: "The report to check" })
      .option("base", { type: "string", describe: "A report of the base, for deltas and regressions" })
      .example("$0 check report.json", "Are the figures within today's budgets?")
      .example(
        "$0 merge shard-*.json -o all.json --fail-on never && $0 check all.json --base main.json",
        "Shards, then one verdict",
      ),
  handler: async (argv) =>
    (await import("../handlers/check.js")).checkCommand({ ...argv, file: argv.file as string }),
});
