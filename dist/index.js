import { createRequire as __mbCreateRequire } from "node:module"; const require = __mbCreateRequire(import.meta.url);
import{__toESM,require_node_module}from"./chunks/chunk-U4TV2QO4.js";var import_node_module=__toESM(require_node_module(),1);import_node_module.default.enableCompileCache?.();await import("./chunks/main-7BRW2LUM.js");
