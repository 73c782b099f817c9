// The Action's entry (dist/index.js, CommonJS): V8's compile cache first (Node ≥ 22.1), then the
// Action, whose ES module chunk the build names here.
import module from "node:module";

declare const MEMBUDGET_ACTION_MAIN: string;

module.enableCompileCache?.();
void import(MEMBUDGET_ACTION_MAIN);
