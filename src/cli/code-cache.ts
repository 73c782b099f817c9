// Runs the CLI's bundle with a V8 code cache taken after a run, so that a start compiles nothing it
// compiled last time.
//
// Node's own compile cache (module.enableCompileCache) serialises a module's code when the module
// is compiled, before it runs: it holds the top level only, and every function a run calls is
// compiled again at every start (a third of a `membudget run`'s instructions). V8 serialises a
// script's code after it has run with the functions it compiled (vm.Script#createCachedData), so
// the bundle is one CommonJS script run through vm.Script, and the code it compiled is written at
// exit when there was no cache or V8 rejected it. One cache per command: each holds what that
// command runs; a start that ended in a usage error (exit 2) ran too little of it to be kept.
//
// The cache is code membudget will run, so it is read only from a folder of this user's that no
// one else can write (the native helpers' rule), and only a file of this user's that no one else
// can write, not through a symbolic link; anything else, and any failure, means no cache: a start
// that compiles, never a failed one. NODE_DISABLE_COMPILE_CACHE=1 turns it off, as it does Node's;
// NODE_DEBUG=membudget says on stderr what became of it. V8 rejects a cache made by another V8 or
// with other flags (the Node.js options are in the file's name, so that two sets of them do not
// take turns replacing each other's); one made from another bundle is never looked at: the name
// carries the bundle's content hash, size and modification time, as V8 matches a cache to its
// script by the source's length alone.
import {
  closeSync,
  constants,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { debuglog } from "node:util";
import { Script } from "node:vm";
import { shortHash } from "../model/hash.js";
import { cacheRoot } from "../model/paths.js";

/** Runs the CommonJS bundle `file` and returns its exports; `variant` names its cache (the command). */
export function loadBundle<T>(file: string, variant: string): T {
  const source = readFileSync(file, "latin1"); // the build checks that the bundle is ASCII
  const cache = cacheFile(file, variant);
  const cachedData = cache?.exists ? readOwn(cache.file) : undefined;
  // Strict, as the ES modules it was built from. The wrapper's line is its own, so that stack
  // traces keep the bundle's line numbers; the bundle's import.meta.url is __mbBundleUrl.
  const script = new Script(
    `(function (exports, require, module, __filename, __dirname, __mbBundleUrl) {"use strict";\n${source}\n})`,
    { filename: file, lineOffset: -1, ...(cachedData ? { cachedData } : {}) },
  );
  const log = debuglog("membudget");
  if (!cache) {
    log(
      "code cache: off (%s)",
      process.env["NODE_DISABLE_COMPILE_CACHE"] ? "NODE_DISABLE_COMPILE_CACHE" : "no private cache folder",
    );
  } else if (cachedData && !script.cachedDataRejected) {
    log("code cache: accepted %s", cache.file);
  } else {
    log("code cache: %s %s", cachedData ? "rejected" : "none at", cache.file);
    process.once("exit", (code) =>
      log("code cache: %s", code === 2 ? "not written: a usage error" : save(cache, script)),
    );
  }
  const module = { exports: {} as T };
  script.runInThisContext()(
    module.exports,
    createRequire(file),
    module,
    file,
    dirname(file),
    pathToFileURL(file).href,
  );
  return module.exports;
}

/** Other bundles' caches kept (another checkout or install of membudget may still use them). */
const OTHERS_KEPT = 16;
const OTHERS_MAX_AGE_MS = 30 * 24 * 3600_000;

interface CacheFile {
  dir: string;
  file: string;
  /** Whether the folder was there (nothing to read when it was not). */
  exists: boolean;
  /** What every cache file of this bundle's starts with (prune keeps a few others'). */
  prefix: string;
}

function cacheFile(bundle: string, variant: string): CacheFile | undefined {
  if (process.env["NODE_DISABLE_COMPILE_CACHE"]) return undefined;
  try {
    const dir = join(cacheRoot(), "js");
    const state = folderState(dir);
    if (state === "unsafe") return undefined;
    const st = statSync(bundle);
    const identity = `${st.size.toString(36)}.${Math.trunc(st.mtimeMs).toString(36)}`;
    const prefix = `${basename(bundle).replace(/\.c?js$/, "")}-${identity}-`;
    const options = shortHash([process.execArgv.join(" "), process.env["NODE_OPTIONS"] ?? ""]);
    const name = `${prefix}${process.version}-${process.arch}-${options}-${variant}.v8`;
    return { dir, prefix, exists: state === "private", file: join(dir, name) };
  } catch {
    return undefined; // no home directory, no bundle to stat: no cache
  }
}

/** "private" when `dir` is this user's alone, "absent" when it is not there yet (save makes it so). */
function folderState(dir: string): "private" | "absent" | "unsafe" {
  try {
    const st = statSync(dir);
    return st.isDirectory() && ownAlone(st) ? "private" : "unsafe";
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "ENOENT" ? "absent" : "unsafe";
  }
}

function ownAlone(st: { uid: number; mode: number }): boolean {
  const uid = process.getuid?.();
  return (uid === undefined || st.uid === uid) && (st.mode & 0o022) === 0;
}

/** The file's bytes if it is a regular file of this user's that no one else can write, not a link. */
function readOwn(file: string): Buffer | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    const st = fstatSync(fd);
    return st.isFile() && ownAlone(st) ? readFileSync(fd) : undefined;
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
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
    if (folderState(cache.dir) !== "private") return `not written: ${cache.dir} is not private`;
    const tmp = join(cache.dir, `.${process.pid}-${basename(cache.file)}`);
    writeFileSync(tmp, data, { mode: 0o600 });
    renameSync(tmp, cache.file);
    prune(cache);
    return `written ${cache.file} (${data.length} bytes)`;
  } catch (err) {
    // A cache that cannot be written costs the next start its compiling, nothing else.
    return `not written: ${(err as Error).message}`;
  }
}

/**
 * Drops what a run killed while writing left (a temp file older than a minute) and other bundles'
 * caches beyond the newest OTHERS_KEPT or older than OTHERS_MAX_AGE_MS. Another bundle is an older
 * membudget, or the same one in another checkout (its files' mtimes differ): two checkouts in use
 * must not take turns replacing each other's caches at every start.
 */
function prune(cache: CacheFile): void {
  const now = Date.now();
  const others: { path: string; mtimeMs: number }[] = [];
  for (const name of readdirSync(cache.dir)) {
    if (name.startsWith(cache.prefix)) continue;
    const path = join(cache.dir, name);
    const { mtimeMs } = statSync(path);
    if (name.startsWith(".")) {
      if (now - mtimeMs > 60_000) rmSync(path, { force: true });
    } else others.push({ path, mtimeMs });
  }
  others.sort((a, b) => b.mtimeMs - a.mtimeMs);
  others.forEach(({ path, mtimeMs }, i) => {
    if (i >= OTHERS_KEPT || now - mtimeMs > OTHERS_MAX_AGE_MS) rmSync(path, { force: true });
  });
}
