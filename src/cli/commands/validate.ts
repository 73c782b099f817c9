// `membudget validate`: check a budget file without running anything.
import { defineCommand } from "../command.js";

export const validate = defineCommand({
  command: "validate [file]",
  describe: "Check a budget file without running anything",
  builder: (y) =>
    y
      .positional("file", { type: "string", default: "membudget.json", describe: "The budget file" })
      .example("$0 validate", "Check membudget.json")
      .example("$0 validate ci/budgets.json", "Check another file"),
  handler: async (argv) => (await import("../handlers/validate.js")).validateCommand(argv),
});
