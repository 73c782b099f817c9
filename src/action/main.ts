// The Action as a function: run it, and turn any thrown error into a failed step with a clear message.
// index.ts calls it on the runner; GitHub's local runner (@github/local-action) imports this file and
// calls `run()` itself, as it does for actions laid out like actions/typescript-action.
import * as core from "@actions/core";
import { CancelledError } from "../model/errors.js";
import { cancelSignal, run as runAction } from "./run.js";

export async function run(): Promise<void> {
  try {
    await runAction();
  } catch (err) {
    if (err instanceof CancelledError) {
      core.setFailed(
        "membudget: cancelled; the workload was stopped, the base worktree and run folders removed",
      );
      // As a shell reports a death by the signal: 130 for SIGINT, 143 for SIGTERM.
      process.exitCode = cancelSignal() === "SIGINT" ? 130 : 143;
      return;
    }
    core.setFailed(`membudget: ${(err as Error).message}`);
  }
}
