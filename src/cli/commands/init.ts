// `membudget init`: a first budget file for a repository, its scenarios measured once and budgeted.
import { defineCommand } from "../command.js";
import { budgetsOption } from "../options.js";

export const init = defineCommand({
  command: "init [commands..]",
  describe:
    "Write a first budget file: the pytest suite and the commands named, each measured once and budgeted",
  builder: (y) =>
    budgetsOption(y)
      .positional("commands", {
        type: "string",
        array: true,
        describe: "Commands to measure, one scenario each (quote each command)",
      })
      .option("headroom", {
        type: "string",
        default: "10%",
        describe: "Added on top of the measured figure, as update does",
      })
      .option("dry-run", {
        type: "boolean",
        default: false,
        describe: "Measure and show the file, write nothing",
      })
      .example("$0 init", "Find the pytest suite, measure it, write membudget.json")
      .example('$0 init "python3 scripts/load.py --rows 100000" "node build.js"', "Two commands of your own"),
  handler: async (argv) => (await import("../handlers/init.js")).initCommand(argv),
});
