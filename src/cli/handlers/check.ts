// The work of `membudget check` (commands/check.ts imports it when the command runs).
import { loadPlan } from "../../config/plan.js";
import { budgetsOfPlan } from "../../verdict/budgets.js";
import { judge } from "../../verdict/judge.js";
import { exitCodeFor } from "../exit.js";
import { type OutputArgs, publish } from "../publish.js";
import { readReport } from "./read.js";

export interface CheckArgs extends OutputArgs {
  budgets: string;
  file: string;
  base?: string;
}

export async function checkCommand(argv: CheckArgs): Promise<number> {
  const plan = loadPlan(argv.budgets);
  const measured = await readReport(argv.file);
  const base = argv.base ? await readReport(argv.base) : undefined;
  const report = judge(base ? { ...measured, base: { source: argv.base! } } : measured, {
    budgets: budgetsOfPlan(plan),
    figuresFrom: "report",
    ...(base ? { base } : {}),
  });
  await publish(report, argv);
  return exitCodeFor(report, argv["fail-on"]);
}
