// Bundles the CLI and the Action into dist/ and copies the probe files they load at run time.
// Files are replaced in place and stale ones removed afterwards, so that dist/ never disappears
// under a process that is running it (tests run the bundle while a build may happen).
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { Ajv } from "ajv";
import standaloneCode from "ajv/dist/standalone/index.js";
import { build } from "esbuild";

const banner = {
  // yargs and @actions/* are ESM, ajv is CommonJS: the ESM bundle needs a real `require`.
  js: 'import { createRequire as __mbCreateRequire } from "node:module"; const require = __mbCreateRequire(import.meta.url);',
};

mkdirSync("dist", { recursive: true });

/**
 * src/config/validator.ts and src/report/validator.ts compile their JSON Schemas when they run; the
 * bundle gets the same validators compiled now (ajv standalone), so a CLI start neither loads ajv
 * nor compiles a schema. The options must stay those of the two modules (the CLI's error-message
 * tests run the bundle).
 */
const VALIDATORS = {
  "config/validator.ts": {
    schema: "src/config/budgets.schema.json",
    options: { allErrors: true, verbose: true, strict: false },
    name: "budgetValidator",
  },
  "report/validator.ts": {
    schema: "src/report/report.schema.json",
    options: { allErrors: true, strict: false },
    name: "reportValidator",
  },
};
const precompiledValidators = {
  name: "precompiled-validators",
  setup(b) {
    b.onLoad({ filter: /src[\\/](config|report)[\\/]validator\.ts$/ }, (args) => {
      const key = Object.keys(VALIDATORS).find((k) => args.path.replace(/\\/g, "/").endsWith(k));
      const { schema, options, name } = VALIDATORS[key];
      const ajv = new Ajv({ ...options, code: { source: true, esm: true } });
      const code = standaloneCode(ajv, ajv.compile(JSON.parse(readFileSync(schema, "utf8"))));
      return {
        contents: `${code}\nexport function ${name}() { return validate; }\n`,
        loader: "js",
        resolveDir: dirname(args.path),
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
  plugins: [precompiledValidators],
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
