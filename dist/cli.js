#!/usr/bin/env node
import { createRequire as __mbCreateRequire } from "node:module"; const require = __mbCreateRequire(import.meta.url);
import module from"node:module";module.enableCompileCache?.();var{main}=await import("./chunks/main-I3KZZXG6.js");process.exitCode=await main(process.argv.slice(2));
