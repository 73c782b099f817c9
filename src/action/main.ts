// The Action as a function: run it, and turn any thrown error into a failed step with a clear message.
// index.ts calls it on the runner; GitHub's local runner (@github/local-action) imports this file and
// calls `run()` itself, as it does for actions laid out like actions/typescript-action.
import * as core from "@actions/core";
import { run as runAction } from "./run.js";

export async function run(): Promise<void> {
  try {
    await runAction();
  } catch (err) {
    core.setFailed(`membudget: ${(err as Error).message}`);
  }
}
