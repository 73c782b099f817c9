#!/usr/bin/env node
import { createRequire as __mbCreateRequire } from "node:module"; const require = __mbCreateRequire(import.meta.url);
<<<<<<< HEAD
import module from"node:module";module.enableCompileCache?.();var{main}=await import("./chunks/main-37O4NW4Y.js");process.exitCode=await main(process.argv.slice(2));
=======
import module from"node:module";module.enableCompileCache?.();var{main}=await import("./chunks/main-72VRWJ3H.js");process.exitCode=await main(process.argv.slice(2));
>>>>>>> 30dd3c8 (dist: rebuilt)
