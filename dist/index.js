import { createRequire as __mbCreateRequire } from "node:module"; const require = __mbCreateRequire(import.meta.url);
import module from"node:module";module.enableCompileCache?.();await import("./chunks/main-AUDTA7UJ.js");
