// Options that several commands share: where the budget file is, and what to write.
import type { Argv } from "yargs";
import { FAIL_ON, type FailOn } from "../model/status.js";

export function budgetsOption<T>(y: Argv<T>) {
  return y.option("budgets", {
    alias: "b",
    type: "string",
    default: "membudget.json",
    describe: "The budget file",
  });
}

export function outputOptions<T>(y: Argv<T>) {
  return y
    .option("report", { type: "string", describe: "Write the JSON report to this file" })
    .option("markdown", {
      type: "string",
      describe: "Write the markdown table (the PR comment's form) to this file",
    })
    .option("fail-on", {
      choices: FAIL_ON,
      default: "over" as FailOn,
      describe: "What fails the command (exit 1)",
    })
    .option("all", {
      type: "boolean",
      default: false,
      describe: "Show every measured metric, not only budgeted ones",
    })
    .option("chart", {
      type: "string",
      describe: "Write an SVG chart of each scenario's memory over the run (base dashed) into this directory",
    });
}
