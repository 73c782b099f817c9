// Every command's work, in one module that the commands import when one runs: the bundle makes it
// one chunk, so that a command loads one file beyond yargs (see command.ts).
export { checkCommand } from "./check.js";
export { compareCommand } from "./compare.js";
export { mergeCommand } from "./merge.js";
export { runCommand } from "./run.js";
export { updateCommand } from "./update.js";
export { validateCommand } from "./validate.js";
