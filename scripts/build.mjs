// Bundles the CLI and the Action into dist/ and copies the probe files they load at run time.
// Files are replaced in place and stale ones removed afterwards, so that dist/ never disappears
// under a process that is running it (tests run the bundle while a build may happen).
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { Ajv } from "ajv";
import standaloneCode from "ajv/dist/standalone/index.js";
import { build } from "esbuild";

const banner = {
  // yargs and @actions/* are ESM, ajv is CommonJS: the ESM bundle needs a real `require`.
  js: 'import { createRequire as __mbCreateRequire } from "node:module"; const require = __mbCreateRequire(import.meta.url);',
};

mkdirSync("dist", { recursive: true });

/**
 * src/config/validator.ts compiles the budget file's schema when it runs; the bundle gets the same
 * validator compiled now (ajv standalone), which saves compiling it on every start. The options
 * must stay those of AJV_OPTIONS in validator.ts (the CLI's error-message tests run the bundle).
 */
const precompiledValidator = {
  name: "precompiled-budget-validator",
  setup(b) {
    b.onLoad({ filter: /src[\\/]config[\\/]validator\.ts$/ }, () => {
      const schema = JSON.parse(readFileSync("src/config/budgets.schema.json", "utf8"));
      const ajv = new Ajv({
        allErrors: true,
        verbose: true,
        strict: false,
        code: { source: true, esm: true },
      });
      const code = standaloneCode(ajv, ajv.compile(schema));
      return {
        contents: `${code}\nexport function budgetValidator() { return validate10; }\n`,
        loader: "js",
        resolveDir: "src/config",
      };
    });
  },
};

const result = await build({
  entryPoints: { cli: "src/cli/bin.ts", index: "src/action/bin.ts" },
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
  metafile: true,
  // Smaller bundles parse faster on every start; identifiers stay, so stack traces stay readable.
  minifyWhitespace: true,
  minifySyntax: true,
  plugins: [precompiledValidator],
});

const keep = new Set(Object.keys(result.metafile.outputs).map((f) => relative("dist", f)));

// Probe files run inside the workload, not inside our bundle: ship them as files.
const copies = [
  ["src/config/budgets.schema.json", "budgets.schema.json"],
  ["src/report/report.schema.json", "report.schema.json"],
];
for (const file of walk("src/measure/probes")) {
  if (file.endsWith(".ts") || file.includes("__pycache__")) continue;
  copies.push([file, join("probes", relative("src/measure/probes", file))]);
}
for (const [from, to] of copies) {
  cpSync(from, join("dist", to));
  keep.add(to);
}

// Whatever an earlier build left that this one did not write goes (old chunks, removed probes).
for (const file of walk("dist")) {
  if (!keep.has(relative("dist", file))) rmSync(file);
}

function* walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else yield path;
  }
}
