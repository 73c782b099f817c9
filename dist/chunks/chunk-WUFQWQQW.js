import { createRequire as __mbCreateRequire } from "node:module"; const require = __mbCreateRequire(import.meta.url);
import{__commonJS,__require}from"./chunk-F3BWQAPD.js";var require_node_module=__commonJS({"builtin:node:module"(exports,module){module.exports=__require("node:module")}});export{require_node_module};
