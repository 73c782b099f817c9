// Runs the CLI's bundle with a V8 code cache taken after a run, so that a start compiles nothing it
// compiled last time.
//
// Node's own compile cache (module.enableCompileCache) serialises a module's code when the module
// is compiled, before it runs: it holds the top level only, and every function a run calls is
// compiled again at every start (a third of a `membudget run`'s instructions). V8 serialises a
// script's code after it has run with the functions it compiled (vm.Script#createCachedData), so
// the bundle is one CommonJS script run through vm.Script, and the code it compiled is written at
// exit when there was no cache or V8 rejected it. One cache per command: each holds what that
// command runs.
//
// The cache is code membudget will run, so it is read only from a folder of this user's that no
// one else can write (the native helpers' rule); anything else, and any failure, means no cache:
// a start that compiles, never a failed one. NODE_DISABLE_COMPILE_CACHE=1 turns it off, as it does
// Node's; NODE_DEBUG=membudget says on stderr what became of it. V8 itself rejects a cache made by another V8 or with other flags; one made from another
// bundle is never looked at, since the bundle's name carries its content hash.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import { debuglog } from "node:util";
import { Script } from "node:vm";
import { cacheRoot } from "../model/paths.js";

/** Runs the CommonJS bundle `file` and returns its exports; `variant` names its cache (the command). */
export function loadBundle<T>(file: string, variant: string): T {
  const source = readFileSync(file, "latin1"); // the build checks that the bundle is ASCII
  const cache = cacheFile(file, variant);
  const cachedData = cache ? readQuietly(cache.file) : undefined;
  // The wrapper sits on a line of its own, so that stack traces keep the bundle's line numbers.
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {\n${source}\n})`, {
    filename: file,
    lineOffset: -1,
    ...(cachedData ? { cachedData } : {}),
  });
  const log = debuglog("membudget");
  if (!cache)
    log(
      "code cache: off (%s)",
      process.env["NODE_DISABLE_COMPILE_CACHE"] ? "NODE_DISABLE_COMPILE_CACHE" : "no private cache folder",
    );
  else if (cachedData && !script.cachedDataRejected) log("code cache: accepted %s", cache.file);
  else {
    log("code cache: %s %s", cachedData ? "rejected" : "none at", cache.file);
    process.once("exit", () => log("code cache: %s", save(cache, script)));
  }
  const module = { exports: {} as T };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
  return module.exports;
}

interface CacheFile {
  dir: string;
  file: string;
  /** What every cache file of this bundle's starts with; others are removed when one is written. */
  prefix: string;
}

function cacheFile(bundle: string, variant: string): CacheFile | undefined {
  if (process.env["NODE_DISABLE_COMPILE_CACHE"]) return undefined;
  const dir = join(cacheRoot(), "js");
  if (!privateOrAbsent(dir)) return undefined;
  const prefix = `${basename(bundle).replace(/\.c?js$/, "")}-`;
  return { dir, prefix, file: join(dir, `${prefix}${process.version}-${process.arch}-${variant}.v8`) };
}

/** true when `dir` is this user's alone (or does not exist yet: save creates it so). */
function privateOrAbsent(dir: string): boolean {
  try {
    const st = statSync(dir);
    const uid = process.getuid?.();
    return st.isDirectory() && (uid === undefined || st.uid === uid) && (st.mode & 0o022) === 0;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ENOENT";
  }
}

function readQuietly(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}

/**
 * Writes the script's code (atomically: runs in parallel share the folder) and drops other bundles'
 * caches; says what it did, for NODE_DEBUG.
 */
function save(cache: CacheFile, script: Script): string {
  try {
    const data = script.createCachedData();
    mkdirSync(cache.dir, { recursive: true, mode: 0o700 });
    if (!privateOrAbsent(cache.dir)) return `not written: ${cache.dir} is not private`;
    const tmp = join(cache.dir, `.${process.pid}-${basename(cache.file)}`);
    writeFileSync(tmp, data, { mode: 0o600 });
    renameSync(tmp, cache.file);
    // Other bundles' caches go, and what a run killed while writing left (a temp file older than a minute).
    for (const name of readdirSync(cache.dir)) {
      const path = join(cache.dir, name);
      const stale = name.startsWith(".")
        ? Date.now() - statSync(path).mtimeMs > 60_000
        : !name.startsWith(cache.prefix);
      if (stale) rmSync(path, { force: true });
    }
    return `written ${cache.file} (${data.length} bytes)`;
  } catch (err) {
    // A cache that cannot be written costs the next start its compiling, nothing else.
    return `not written: ${(err as Error).message}`;
  }
}
