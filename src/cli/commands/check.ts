// The work of `membudget check` (main.ts imports it when the command runs).
import { loadPlan } from "../../config/plan.js";
import { readReport } from "../../report/io.js";
import { budgetsOfPlan } from "../../verdict/budgets.js";
import { judge } from "../../verdict/judge.js";
import { exitCodeFor } from "../exit.js";
import { type OutputArgs, publish } from "../publish.js";

export interface CheckArgs extends OutputArgs {
  budgets: string;
  file: string;
  base?: string;
}

export async function checkCommand(argv: CheckArgs): Promise<number> {
  const plan = loadPlan(argv.budgets);
  const measured = readReport(argv.file);
  const base = argv.base ? readReport(argv.base) : undefined;
  const report = judge(base ? { ...measured, base: { source: argv.base! } } : measured, {
    budgets: budgetsOfPlan(plan),
    figuresFrom: "report",
    ...(base ? { base } : {}),
  });
  await publish(report, argv);
  return exitCodeFor(report, argv["fail-on"]);
}
