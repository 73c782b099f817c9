// `membudget merge`: one report from the reports of several jobs.
import { readReport, writeReport } from "../../report/io.js";
import { mergeReports } from "../../report/merge.js";
import { defineCommand } from "../command.js";
import { exitCodeFor } from "../exit.js";

export const merge = defineCommand({
  command: "merge <reports..>",
  describe: "Merge reports of separate jobs (e.g. a matrix) into one",
  builder: (y) =>
    y
      .positional("reports", { type: "string", array: true, demandOption: true, describe: "Report files" })
      .option("output", {
        alias: "o",
        type: "string",
        demandOption: true,
        describe: "The merged report file",
      })
      .example("$0 merge shard-*.json -o report.json", "One report from several jobs"),
  handler(argv) {
    const merged = mergeReports((argv.reports as string[]).map((f) => readReport(f)));
    writeReport(argv.output, merged);
    process.stdout.write(`${argv.output}: ${merged.scenarios.length} scenarios, ${merged.summary}\n`);
    return exitCodeFor(merged, "never");
  },
});
