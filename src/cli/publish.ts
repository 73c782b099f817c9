// What every judging command does with its report: the files asked for, then the terminal table.
import { join } from "node:path";
import type { Report } from "../model/report.js";
import { renderMarkdown } from "../render/markdown.js";
import { chartFiles } from "../render/svg.js";
import { renderTerminal, wantsColour } from "../render/terminal.js";
import { writeReport, writeTextFile } from "../report/io.js";

export interface PublishOptions {
  report?: string;
  markdown?: string;
  all?: boolean;
  chart?: string;
}

export function publish(report: Report, argv: PublishOptions): void {
  if (argv.report) writeReport(argv.report, report);
  if (argv.markdown) writeTextFile(argv.markdown, renderMarkdown(report));
  if (argv.chart) {
    const files = chartFiles(report.scenarios);
    for (const f of files) writeTextFile(join(argv.chart, f.file), f.svg);
    const without = report.scenarios.length - files.length;
    process.stderr.write(
      `membudget: ${files.length === 1 ? "1 chart" : `${files.length} charts`} written to ${argv.chart}${without > 0 ? ` (${without} ${without === 1 ? "scenario has" : "scenarios have"} no timeline)` : ""}\n`,
    );
  }
  process.stdout.write(
    renderTerminal(report, { colour: wantsColour(process.stdout), all: argv.all ?? false }),
  );
}
