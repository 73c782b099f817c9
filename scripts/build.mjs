// Bundles the CLI and the Action into dist/ and copies the probe files they load at run time.
// Files are replaced in place and stale ones removed afterwards, so that dist/ never disappears
// under a process that is running it (tests run the bundle while a build may happen).
import { createHash } from "node:crypto";
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
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

/**
 * yargs imports cliui and string-width only to lay out help text, and string-width 8 builds three
 * large Unicode regular expressions as it loads (CPU on every start, help or not). The
 * bundle gets each as a stub that loads the module on its first call (esbuild wraps a module that is
 * `require`d so that it runs then); a `run` never calls them. Both are called as their default
 * export, which is all yargs, cliui and wrap-ansi use.
 */
const lazyModules = {
  name: "lazy-modules",
  setup(b) {
    b.onResolve({ filter: /^(cliui|string-width)$/ }, async (args) => {
      if (args.pluginData?.lazyReal) return undefined;
      const real = await b.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: { lazyReal: true },
      });
      if (real.errors.length > 0) return { errors: real.errors };
      // The namespace path names the stub in the bundle: relative, so the build does not depend on where the clone is.
      return { path: relative(process.cwd(), real.path), namespace: "lazy", pluginData: { real: real.path } };
    });
    b.onLoad({ filter: /.*/, namespace: "lazy" }, (args) => ({
      contents: `let real;\nexport default function lazy(...a) {\n  real ??= require(${JSON.stringify(args.pluginData.real)}).default;\n  return real(...a);\n}\n`,
      loader: "js",
      resolveDir: dirname(args.pluginData.real),
    }));
  },
};

/**
 * Two start-up costs of yargs' ESM platform shim, patched in the bundle (the build fails if the shim
 * changes shape): it loads node:assert for two invariant checks, here plain functions that
 * throw the same way; and it guesses a version (before ours replaces it) from the package.json it
 * finds walking up from its own path cut at "node_modules", which in a bundle is no path at all, so
 * it lists every directory from the working directory up (all of /tmp, for one). From the bundle's
 * own file it finds membudget's package.json two directories up.
 */
const yargsShim = {
  name: "yargs-shim",
  setup(b) {
    b.onLoad({ filter: /yargs[\\/]lib[\\/]platform-shims[\\/]esm\.mjs$/ }, (args) => {
      let text = readFileSync(args.path, "utf8");
      const patches = [
        [
          "import { notStrictEqual, strictEqual } from 'assert'",
          "const notStrictEqual = (a, b, m) => { if (a === b) throw new Error(m ?? 'unexpected ' + String(a)); };\n" +
            "const strictEqual = (a, b, m) => { if (a !== b) throw new Error(m ?? 'expected ' + String(b) + ', got ' + String(a)); };",
        ],
        [
          "const mainFilename = __dirname.substring(0, __dirname.lastIndexOf('node_modules'));",
          "const mainFilename = __dirname;",
        ],
      ];
      for (const [from, to] of patches) {
        if (!text.includes(from)) throw new Error(`yargs-shim: ${args.path} no longer has: ${from}`);
        text = text.replace(from, to);
      }
      return { contents: text, loader: "js", resolveDir: dirname(args.path) };
    });
  },
};

/**
 * Node's built-in modules through `require` rather than `import`: an ESM import of a built-in
 * builds its ESM facade, which reads every export, and for node:fs and node:util that loads
 * fs/promises, readline, worker_threads and more on every start. `require` hands over the
 * module object and loads nothing else. node:util's lazy exports load their modules even when only
 * looked at (which esbuild's interop does to every export of a module it imports by name), so util
 * is handed over as an object of getters, each reading util only when used. `require` calls inside
 * the bundled packages are left as they were.
 */
const BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));
const LOOKED_AT_LAZILY = new Set(["util", "node:util"]);
const builtinsByRequire = {
  name: "builtins-by-require",
  setup(b) {
    b.onResolve({ filter: /^[a-z:_/]+$/ }, (args) => {
      if (!BUILTINS.has(args.path)) return undefined;
      if (args.namespace === "builtin" || args.kind !== "import-statement") {
        return { path: args.path, external: true };
      }
      return { path: args.path, namespace: "builtin" };
    });
    b.onLoad({ filter: /.*/, namespace: "builtin" }, async (args) => {
      const name = JSON.stringify(args.path);
      if (!LOOKED_AT_LAZILY.has(args.path))
        return { contents: `module.exports = require(${name});`, loader: "js" };
      const keys = Object.getOwnPropertyNames(await import(args.path)).filter((k) => k !== "default");
      return {
        contents:
          `const exported = {};\nfor (const key of ${JSON.stringify(keys)}) {\n` +
          `  Object.defineProperty(exported, key, { enumerable: true, get: () => require(${name})[key] });\n}\n` +
          "module.exports = exported;\n",
        loader: "js",
      };
    });
  },
};

// The CLI and the Action are built apart: code they share would otherwise be cut into chunks by
// which of them uses it.
const options = {
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
  plugins: [precompiledValidators, lazyModules, yargsShim, builtinsByRequire],
};

/**
 * The CLI is one CommonJS script, dist/chunks/cli-<content hash>.cjs, that dist/cli.js requires. Its
 * modules that a command imports when it runs stay lazy (esbuild runs them at their first import()).
 */
const cliBundle = await build({
  ...options,
  entryPoints: { cli: "src/cli/main.ts" },
  entryNames: "chunks/[name]-[hash]",
  outExtension: { ".js": ".cjs" },
  format: "cjs",
  splitting: false,
  // Strict, as the ES modules it was built from (esbuild's own directive comes after the banner:
  // too late to count); import.meta.url is the bundle's own file.
  banner: { js: '"use strict";const __mbBundleUrl = require("node:url").pathToFileURL(__filename).href;' },
  define: { "import.meta.url": "__mbBundleUrl" },
  // A CommonJS bundle requires Node's built-ins as they are: there is no ESM facade to avoid.
  plugins: [precompiledValidators, lazyModules, yargsShim],
});
const cliBundleFile = Object.keys(cliBundle.metafile.outputs).find((f) => f.endsWith(".cjs"));

/**
 * The Action is ESM split into chunks (dist/chunks/*.mjs), loaded by dist/index.js: a hosted runner
 * starts it once, cold, so loading only the chunks a job needs counts for more than a code cache.
 */
const actionBundle = await build({
  ...options,
  entryPoints: { action: "src/action/index.ts" },
  entryNames: "chunks/[name]-[hash]",
  outExtension: { ".js": ".mjs" },
});
const actionMain = Object.keys(actionBundle.metafile.outputs).find((f) =>
  /chunks\/action-[^/]*\.mjs$/.test(f),
);

/**
 * dist/cli.js and dist/index.js are CommonJS (dist/package.json says so): an ES module as the
 * entry point starts Node's ESM loader at every start, which the CLI's CommonJS bundle does not
 * otherwise need. They are small and do one thing each.
 */
const entry = { ...options, format: "cjs", splitting: false, banner: {}, define: {}, plugins: [] };
const results = await Promise.all([
  build({
    ...entry,
    entryPoints: { cli: "src/cli/bin.ts" },
    define: { MEMBUDGET_CLI_BUNDLE: JSON.stringify(relative("dist", cliBundleFile)) },
  }),
  build({
    ...entry,
    entryPoints: { index: "src/action/bin.ts" },
    define: { MEMBUDGET_ACTION_MAIN: JSON.stringify(`./${relative("dist", actionMain)}`) },
    external: ["./chunks/*"],
  }),
]);
results.push(cliBundle, actionBundle);
writeFileSync("dist/package.json", `${JSON.stringify({ type: "commonjs" }, null, 2)}\n`);

const keep = new Set(results.flatMap((r) => Object.keys(r.metafile.outputs)).map((f) => relative("dist", f)));
keep.add("package.json");

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

/**
 * The native helpers' source digests (src/measure/native.ts's sourceDigest, which reads this file):
 * for each helper <name>.c, the SHA-256 of its inputs (<name>.c, its parts <name>-*.c, every header)
 * as each file's name, then its bytes, in name order.
 */
const nativeDir = "src/measure/probes/native";
const nativeNames = readdirSync(nativeDir).sort();
const digests = {};
for (const main of nativeNames.filter((f) => /^[a-z]+\.c$/.test(f))) {
  const name = main.slice(0, -2);
  const inputs = [
    main,
    ...nativeNames.filter((f) => f.startsWith(`${name}-`) && f.endsWith(".c")),
    ...nativeNames.filter((f) => f.endsWith(".h")),
  ];
  const hash = createHash("sha256");
  for (const file of inputs) hash.update(file).update(readFileSync(join(nativeDir, file)));
  digests[name] = hash.digest("hex");
}
writeFileSync("dist/probes/native/digests.json", `${JSON.stringify(digests, null, 2)}\n`);
keep.add(join("probes", "native", "digests.json"));

/**
 * The probes' digest (src/measure/probe-version.ts's probeDigest, which reads this file): SHA-256
 * over each probe file's path relative to probes/ and its bytes, in path order; .ts, .json and
 * __pycache__ left out. A stored report's figures are reused only with the same probes.
 */
const probeFiles = [...walk("src/measure/probes")]
  .map((f) => relative("src/measure/probes", f).split("\\").join("/"))
  .filter((f) => !f.endsWith(".ts") && !f.includes("__pycache__") && !f.endsWith(".json"))
  .sort();
const probeHash = createHash("sha256");
for (const f of probeFiles) probeHash.update(f).update(readFileSync(join("src/measure/probes", f)));
writeFileSync(
  "dist/probes/version.json",
  `${JSON.stringify({ digest: probeHash.digest("hex") }, null, 2)}\n`,
);
keep.add(join("probes", "version.json"));

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
