// `membudget update`: budgets from measured figures plus headroom, written into the budget file in place.
import { defineCommand } from "../command.js";
import { budgetsOption } from "../options.js";

export const update = defineCommand({
  command: "update",
  describe: "Set the budgets from measured figures plus headroom (comments and layout of the file are kept)",
  builder: (y) =>
    budgetsOption(y)
      .option("from", { type: "string", describe: "Take the figures from this report instead of running" })
      .option("headroom", {
        type: "string",
        default: "10%",
        describe:
          "Added on top of the largest run (a figure that varies from run to run gets more: see the README); rounded up by at most 2%",
      })
      .option("metrics", {
        type: "array",
        string: true,
        describe: "Metrics to budget (default: those each scenario already budgets)",
      })
      .option("only", { type: "array", string: true, describe: "Only these scenarios (by name)" })
      .option("largest-tests", {
        type: "number",
        describe:
          "pytest scenarios: also write a budget of its own for each of the N tests with the largest peak heap",
      })
      .option("dry-run", { type: "boolean", default: false, describe: "Show the changes, write nothing" })
      .example("$0 update", "Run the scenarios, then set each existing budget to the largest run + 10%")
      .example(
        "$0 update --from report.json --headroom 20% --metrics peakHeap allocated",
        "From a report, two metrics",
      ),
  handler: async (argv) => (await import("../handlers/update.js")).updateCommand(argv),
});
