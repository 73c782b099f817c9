// `membudget merge`: one report from the reports of several jobs (shards of a matrix), judged as one.
import { readReport, writeReport } from "../../report/io.js";
import { mergeReports } from "../../report/merge.js";
import { carriedBase } from "../../verdict/carried.js";
import { judge } from "../../verdict/judge.js";
import { defineCommand } from "../command.js";
import { exitCodeFor } from "../exit.js";
import { outputOptions } from "../options.js";
import { publish } from "../publish.js";

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
  handler(argv) {
    const files = argv.reports as string[];
    const merged = mergeReports(files.map((file) => ({ file, report: readReport(file) })));
    // Each shard judged its scenarios against its own base: judged again as one, nothing is lost.
    const base = carriedBase(merged);
    const report = judge(merged, base ? { base } : {});
    const out = argv.output ?? argv.report;
    if (out && out !== argv.report) writeReport(out, report);
    publish(report, argv);
    process.stderr.write(
      `${out ?? "merged"}: ${report.scenarios.length} scenarios from ${files.length} reports; ${report.summary}\n`,
    );
    return exitCodeFor(report, argv["fail-on"]);
  },
});
