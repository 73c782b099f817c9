// The Action's entry point on the runner (bundled into dist/chunks/action-*.mjs, loaded by dist/index.js).
import { run } from "./main.js";

await run();
