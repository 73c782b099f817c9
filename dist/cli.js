#!/usr/bin/env node
import { createRequire as __mbCreateRequire } from "node:module"; const require = __mbCreateRequire(import.meta.url);
import{require_node_module}from"./chunks/chunk-WUFQWQQW.js";import{__toESM}from"./chunks/chunk-F3BWQAPD.js";var import_node_module=__toESM(require_node_module(),1);import_node_module.default.enableCompileCache?.();var{main}=await import("./chunks/main-3TSL237P.js");process.exitCode=await main(process.argv.slice(2));
