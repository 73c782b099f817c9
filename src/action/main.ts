// The Action's entry point: run, and turn any thrown error into a failed step with a clear message.
import * as core from "@actions/core";
import { run } from "./run.js";

try {
  await run();
} catch (err) {
  core.setFailed(`membudget: ${(err as Error).message}`);
}
