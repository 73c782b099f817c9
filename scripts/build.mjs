// Bundles the CLI and the Action into dist/ and copies the probe files they load at run time.
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { build } from "esbuild";

const banner = {
  // yargs and @actions/* are ESM, ajv is CommonJS: the ESM bundle needs a real `require`.
  js: 'import { createRequire as __mbCreateRequire } from "node:module"; const require = __mbCreateRequire(import.meta.url);',
};

rmSync("dist", { recursive: true, force: true });
mkdirSync("dist", { recursive: true });

await build({
  entryPoints: { cli: "src/cli/main.ts", index: "src/action/main.ts" },
  outdir: "dist",
  bundle: true,
  platform: "node",
  // jsonc-parser's "main" is a UMD build with dynamic requires; its ESM build bundles cleanly.
  mainFields: ["module", "main"],
  format: "esm",
  target: "node20",
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
  banner,
  legalComments: "linked",
  logLevel: "warning",
});

// Probe files run inside the workload, not inside our bundle: ship them as files.
cpSync("src/measure/probes", "dist/probes", {
  recursive: true,
  filter: (src) => !src.endsWith(".ts") && !src.includes("__pycache__"),
});
cpSync("src/config/budgets.schema.json", "dist/budgets.schema.json");
cpSync("src/report/report.schema.json", "dist/report.schema.json");
