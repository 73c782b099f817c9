// What every judging command does with its report: the terminal table, then the files asked for.

import { join } from "node:path";
import { WriteError } from "../model/errors.js";
import type { Report } from "../model/report.js";
import type { FailOn } from "../model/status.js";
import { plural } from "../model/units.js";
import { renderTerminal, wantsColour } from "../render/terminal.js";
import { writeReport, writeTextFile } from "../report/write.js";

export interface PublishOptions {
  report?: string;
  markdown?: string;
  all?: boolean;
  chart?: string;
}

/** The options of `outputOptions` (cli/options.ts), as a judging command's handler receives them. */
export interface OutputArgs extends PublishOptions {
  "fail-on": FailOn;
}

export async function publish(report: Report, argv: PublishOptions): Promise<void> {
  // The table first: a file that cannot be written (a full disk) must not lose the measurement.
  process.stdout.write(
    renderTerminal(report, { colour: wantsColour(process.stdout, process.env), all: argv.all ?? false }),
  );
  const failed: WriteError[] = [];
  const attempt = (write: () => void): boolean => {
    try {
      write();
      return true;
    } catch (err) {
      if (!(err instanceof WriteError)) throw err;
      failed.push(err);
      return false;
    }
  };
  if (argv.report) attempt(() => writeReport(argv.report!, report));
  // The markdown and SVG renderers load only when asked for: most runs print the table alone.
  if (argv.markdown) {
    const { renderMarkdown } = await import("../render/markdown.js");
    attempt(() => writeTextFile(argv.markdown!, renderMarkdown(report)));
  }
  if (argv.chart) {
    const { chartFiles } = await import("../render/svg.js");
    const files = chartFiles(report.scenarios);
    const written = files.filter((f) =>
      attempt(() => writeTextFile(join(argv.chart!, f.file), f.svg)),
    ).length;
    const without = report.scenarios.length - files.length;
    process.stderr.write(
      `membudget: ${plural(written, "chart")} written to ${argv.chart}${without > 0 ? ` (${without} ${without === 1 ? "scenario has" : "scenarios have"} no timeline)` : ""}\n`,
    );
  }
  // Every failed file is named; the first is the error (exit 2).
  for (const err of failed.slice(1)) process.stderr.write(`membudget: ${err.message}\n`);
  if (failed.length > 0) throw failed[0];
}
