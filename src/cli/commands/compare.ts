// The work of `membudget compare` (main.ts imports it when the command runs).

import { readReport } from "../../report/io.js";
import { judge } from "../../verdict/judge.js";
import { exitCodeFor } from "../exit.js";
import { type OutputArgs, publish } from "../publish.js";

export interface CompareArgs extends OutputArgs {
  base: string;
  head: string;
}

export async function compareCommand(argv: CompareArgs): Promise<number> {
  const base = readReport(argv.base);
  const head = readReport(argv.head);
  const report = judge({ ...head, base: { source: argv.base } }, { base });
  await publish(report, argv);
  return exitCodeFor(report, argv["fail-on"]);
}
