import { createRequire as __mbCreateRequire } from "node:module"; const require = __mbCreateRequire(import.meta.url);
function splitLocation(location){let m=/^(.*):(\d+)$/.exec(location);return m?{file:m[1],line:Number(m[2])}:{file:location}}export{splitLocation};
