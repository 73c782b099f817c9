// The work of `membudget merge` (main.ts imports it when the command runs).

import { readReport } from "../../report/io.js";
import { mergeReports } from "../../report/merge.js";
import { writeReport } from "../../report/write.js";
import { exitCodeFor } from "../exit.js";
import { type OutputArgs, publish } from "../publish.js";

export interface MergeArgs extends OutputArgs {
  reports: string[];
  output?: string;
}

export async function mergeCommand(argv: MergeArgs): Promise<number> {
  const files = argv.reports;
  const reports = [];
  for (const file of files) reports.push({ file, report: readReport(file) });
  // Each scenario keeps the judgement its own job gave it (against that job's base).
  const report = mergeReports(reports);
  const out = argv.output ?? argv.report;
  if (out && out !== argv.report) writeReport(out, report);
  await publish(report, argv);
  process.stderr.write(
    `${out ?? "merged"}: ${report.scenarios.length} scenarios from ${files.length} reports; ${report.summary}\n`,
  );
  return exitCodeFor(report, argv["fail-on"]);
}
