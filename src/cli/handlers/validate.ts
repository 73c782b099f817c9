// The work of `membudget validate` (commands/validate.ts imports it when the command runs).
import { loadPlan } from "../../config/plan.js";
import { displayPath } from "../../model/paths.js";
import { EXIT } from "../exit.js";

export function validateCommand(argv: { file: string }): number {
  const plan = loadPlan(argv.file);
  const n = plan.scenarios.length;
  process.stdout.write(
    `${displayPath(plan.file, process.cwd())}: valid, ${n} ${n === 1 ? "scenario" : "scenarios"} (${plan.scenarios.map((s) => `${s.name} [${s.runtime}]`).join(", ")})\n`,
  );
  return EXIT.ok;
}
