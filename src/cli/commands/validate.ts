// The work of `membudget validate` (main.ts imports it when the command runs).

import { loadPlan } from "../../config/plan.js";
import { displayPath } from "../../model/paths.js";
import { plural } from "../../model/units.js";
import { EXIT } from "../exit.js";

export function validateCommand(argv: { file: string }): number {
  const plan = loadPlan(argv.file);
  const n = plan.scenarios.length;
  process.stdout.write(
    `${displayPath(plan.file, process.cwd())}: valid, ${plural(n, "scenario")} (${plan.scenarios.map((s) => `${s.name} [${s.runtime}]`).join(", ")})\n`,
  );
  return EXIT.ok;
}
