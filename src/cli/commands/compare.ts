// `membudget compare`: two reports, deltas and regressions, nothing run.
import { readReport } from "../../report/io.js";
import { judge } from "../../verdict/judge.js";
import { defineCommand } from "../command.js";
import { exitCodeFor } from "../exit.js";
import { outputOptions } from "../options.js";
import { publish } from "../publish.js";

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
  handler(argv) {
    const base = readReport(argv.base as string);
    const head = readReport(argv.head as string);
    const report = judge({ ...head, base: { source: argv.base as string } }, { base });
    publish(report, argv);
    return exitCodeFor(report, argv["fail-on"]);
  },
});
