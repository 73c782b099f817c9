// `membudget compare`: two reports, deltas and regressions, nothing run.
import { defineCommand } from "../command.js";
import { outputOptions } from "../options.js";

export const compare = defineCommand({
  command: "compare <base> <head>",
  describe: "Compare two reports: deltas, regressions and budgets, without running anything",
  builder: (y) =>
    outputOptions(y)
      .positional("base", { type: "string", demandOption: true, describe: "Report of the base" })
      .positional("head", { type: "string", demandOption: true, describe: "Report of the head" })
      .example("$0 compare main.json pr.json", "What the pull request changed")
      .example(
        "$0 compare main.json pr.json --markdown comment.md --fail-on regressed",
        "Write the comment, fail on regressions",
      ),
  handler: async (argv) =>
    (await import("../handlers/compare.js")).compareCommand({
      ...argv,
      base: argv.base as string,
      head: argv.head as string,
    }),
});
