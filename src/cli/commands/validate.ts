// `membudget validate`: check a budget file without running anything.
import { loadPlan } from "../../config/load.js";
import { displayPath } from "../../model/paths.js";
import { defineCommand } from "../command.js";
import { EXIT } from "../exit.js";

export const validate = defineCommand({
  command: "validate [file]",
  describe: "Check a budget file without running anything",
  builder: (y) =>
    y
      .positional("file", { type: "string", default: "membudget.json", describe: "The budget file" })
      .example("$0 validate", "Check membudget.json")
      .example("$0 validate ci/budgets.json", "Check another file"),
  handler(argv) {
    const plan = loadPlan(argv.file);
    const n = plan.scenarios.length;
    process.stdout.write(
      `${displayPath(plan.file, process.cwd())}: valid, ${n} ${n === 1 ? "scenario" : "scenarios"} (${plan.scenarios.map((s) => `${s.name} [${s.runtime}]`).join(", ")})\n`,
    );
    return EXIT.ok;
  },
});
