// The Action's entry (dist/index.js): V8's compile cache first (Node ≥ 22.1), then the Action.
import module from "node:module";

module.enableCompileCache?.();
await import("./main.js");
