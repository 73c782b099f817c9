// `membudget check`: judge a report (e.g. merged from shards) against the budget file's current budgets.
import { loadPlan } from "../../config/load.js";
import { readReport } from "../../report/io.js";
import { budgetsOfPlan } from "../../verdict/budgets.js";
import { judge } from "../../verdict/judge.js";
import { defineCommand } from "../command.js";
import { exitCodeFor } from "../exit.js";
import { budgetsOption, outputOptions } from "../options.js";
import { publish } from "../publish.js";

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
  handler(argv) {
    const plan = loadPlan(argv.budgets);
    const measured = readReport(argv.file as string);
    const base = argv.base ? readReport(argv.base) : undefined;
    const report = judge(base ? { ...measured, base: { source: argv.base! } } : measured, {
      budgets: budgetsOfPlan(plan),
      figuresFrom: "report",
      ...(base ? { base } : {}),
    });
    publish(report, argv);
    return exitCodeFor(report, argv["fail-on"]);
  },
});
