import { createRequire as __mbCreateRequire } from "node:module"; const require = __mbCreateRequire(import.meta.url);
<<<<<<< HEAD
import module from"node:module";module.enableCompileCache?.();await import("./chunks/main-Z3I4ZG2O.js");
=======
import module from"node:module";module.enableCompileCache?.();await import("./chunks/main-62P7GPRQ.js");
>>>>>>> 30dd3c8 (dist: rebuilt)
