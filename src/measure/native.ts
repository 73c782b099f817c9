// Builds the small C helpers (malloc interposer, RSS wrapper) with the machine's compiler on
// first use and caches them by source hash, so that nothing prebuilt has to ship per platform.
import { spawn, spawnSync } from "node:child_process";
import {
  accessSync,
  chmodSync,
  constants,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { platform, tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { sha256Hex, shortHash } from "../model/hash.js";
import { cacheRoot } from "../model/paths.js";
import { probeFile } from "./probe-files.js";

export type NativeKind = "shared" | "executable";

export interface NativeTool {
  name: string;
  path?: string;
  /** Why the tool is not available (no compiler, not Linux, compile error), said once to the user. */
  unavailable?: string;
  /** Something the user should hear once, e.g. that the cache directory was unusable. */
  note?: string;
}

const memo = new Map<string, NativeTool>();

/**
 * Returns the path of the compiled helper `name` (source: probes/native/<name>.c), compiling it
 * if needed. Never throws: a helper that cannot be built is reported as unavailable.
 */
export function nativeTool(name: string, kind: NativeKind): NativeTool {
  const key = `${name}:${kind}`;
  const known = memo.get(key);
  if (known) return known;
  const tool = build(name, kind);
  memo.set(key, tool);
  return tool;
}

/**
 * A helper's C files: `<name>.c` and its parts `<name>-*.c`; the cache key also covers the
 * headers beside them, which the parts include.
 */
export function nativeSources(name: string): { sources: string[]; inputs: string[] } {
  const main = probeFile("native", `${name}.c`);
  const names = readdirSync(dirname(main)).sort();
  const sources = [
    main,
    ...names.filter((f) => f.startsWith(`${name}-`) && f.endsWith(".c")).map((f) => join(dirname(main), f)),
  ];
  const headers = names.filter((f) => f.endsWith(".h")).map((f) => join(dirname(main), f));
  return { sources, inputs: [...sources, ...headers] };
}

/**
 * A helper to compile: what build() and prepareNativeTools() run, and where the result goes. The
 * compiler reads the source from `input`: one translation unit that includes every C file of the
 * helper (a single cc1 parses the headers once and optimises across the files).
 */
interface CompileJob {
  name: string;
  cc: string;
  flags: string[];
  input: string;
  /** The sources' folder: the compiler runs there, where it looks first for what stdin includes. */
  cwd: string;
  tmp: string;
  out: string;
  note: { note?: string };
}

/** What a compile said: as spawnSync reports it, whichever way it ran. */
interface CompileResult {
  error?: Error;
  status: number | null;
  stderr: string;
}

function build(name: string, kind: NativeKind): NativeTool {
  const step = compileJob(name, kind);
  if ("tool" in step) return step.tool;
  const { cc, flags, input, cwd } = step.job;
  return published(step.job, spawnSync(cc, flags, { cwd, input, encoding: "utf8" }));
}

/**
 * Builds the helpers in `wanted` that are not built yet, at the same time, so that nativeTool then
 * finds them. A first run on a machine compiles them, which a hosted runner does in every job: one
 * after the other, at -O2 and with one cc1 per file, that was ~0.65 s before the first workload;
 * at once, at -O1, one translation unit each, ~0.2 s on two cores.
 */
export async function prepareNativeTools(wanted: [name: string, kind: NativeKind][]): Promise<void> {
  await Promise.all(
    wanted.map(async ([name, kind]) => {
      const key = `${name}:${kind}`;
      if (memo.has(key)) return;
      const step = compileJob(name, kind);
      const tool = "tool" in step ? step.tool : published(step.job, await compile(step.job));
      if (!memo.has(key)) memo.set(key, tool);
    }),
  );
}

function compile(job: CompileJob): Promise<CompileResult> {
  return new Promise((done) => {
    let stderr = "";
    const child = spawn(job.cc, job.flags, { cwd: job.cwd, stdio: ["pipe", "ignore", "pipe"] });
    child.stdin.on("error", () => {}); // a compiler that is missing or quits early: its exit says it
    child.stdin.end(job.input);
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.once("error", (error) => done({ error, status: null, stderr }));
    child.once("close", (status) => done({ status, stderr }));
  });
}

/**
 * How each kind of helper is compiled, linked, and what it links against. -O1: the interposer's hot
 * path (a hook per malloc and free) runs no more instructions than at -O2 (callgrind: 871.5 M against
 * 871.7 M for churn.py 100,000 under the probe; 325 M against 327 M for a C loop of 1 M malloc/free),
 * and compiles in half the time (mbmalloc.c 0.15 s of CPU against 0.26 s), which a fresh machine
 * pays before its first workload.
 */
const FLAGS: Record<NativeKind, { compile: string[]; link: string[]; libraries: string[] }> = {
  shared: {
    compile: ["-O1", "-fPIC", "-fvisibility=hidden"],
    link: ["-shared"],
    libraries: ["-ldl", "-lpthread"],
  },
  executable: { compile: ["-O1"], link: [], libraries: [] },
};

/** The helper when it is built already (or cannot be), else the compile that builds it. */
function compileJob(name: string, kind: NativeKind): { tool: NativeTool } | { job: CompileJob } {
  if (platform() !== "linux") {
    return { tool: { name, unavailable: `${name} needs Linux (this is ${platform()})` } };
  }
  const { sources, inputs } = nativeSources(name);
  const cc = process.env["CC"] ?? "cc";
  // The key covers the flags: a change of them builds the helpers again.
  const { compile: compileFlags, link, libraries } = FLAGS[kind];
  const hash = cacheKey([sourceDigest(name, inputs), cc, process.arch, compileFlags.join(" ")]);
  const file = kind === "shared" ? `lib${name}.so` : name;
  // Built already where the cache root says: nothing to write, so nothing to check it can be written.
  const wanted = wantedCacheRoot();
  const built = wanted ? join(wanted, hash, file) : undefined;
  if (built && existsSync(built)) return { tool: { name, path: built } };
  const root = usableCacheRoot();
  if ("unavailable" in root) return { tool: { name, unavailable: root.unavailable } };
  const note = root.note ? { note: root.note } : {};
  // Absolute: the compiler runs in the sources' folder, and MEMBUDGET_CACHE_DIR may be relative.
  const dir = resolve(root.dir, hash);
  const out = join(dir, file);
  if (existsSync(out)) return { tool: { name, path: out, ...note } };
  try {
    mkdirSync(dir, { recursive: true });
  } catch (err) {
    return {
      tool: {
        name,
        unavailable: `cannot create the cache directory ${dir} (${errnoOf(err)}); set MEMBUDGET_CACHE_DIR`,
      },
    };
  }
  const tmp = `${out}.${process.pid}.tmp`;
  // The translation unit on stdin; the libraries after it, where the linker looks for them.
  const flags = [...compileFlags, ...link, "-o", tmp, "-x", "c", "-", "-x", "none", ...libraries];
  // By name, from the folder the compiler runs in (a header name is taken literally: a path with a
  // quote or a backslash in it could not be written in one). A C file of that name in membudget's
  // own working directory would otherwise come first. The compiler's messages name each file.
  const input = sources.map((source) => `#include "${basename(source)}"\n`).join("");
  return { job: { name, cc, flags, input, cwd: dirname(sources[0]!), tmp, out, note } };
}

/** The compiled helper, moved into place, or why there is none. */
function published(job: CompileJob, result: CompileResult): NativeTool {
  const { name, cc, tmp, out, note } = job;
  if (result.error) {
    return { name, unavailable: `no C compiler (${cc}: ${result.error.message}); install gcc or set CC` };
  }
  if (result.status !== 0) {
    rmSync(tmp, { force: true });
    return { name, unavailable: `${cc} could not build ${name}: ${result.stderr.trim().slice(0, 2000)}` };
  }
  // Atomic publish: concurrent runs may build the same helper.
  try {
    renameSync(tmp, out);
  } catch (err) {
    return {
      name,
      unavailable: `cannot publish ${name} in ${dirname(out)} (${errnoOf(err)}); set MEMBUDGET_CACHE_DIR`,
    };
  }
  return { name, path: out, ...note };
}

/**
 * The SHA-256 of a helper's inputs (each file's name, then its bytes). The build writes it for each
 * helper into native/digests.json beside the sources, so that a start neither reads the sources nor
 * loads node:crypto; from the sources (under test) it is worked out here, the same way.
 */
export function sourceDigest(name: string, inputs: string[]): string {
  digests ??= readDigests(dirname(inputs[0]!));
  const known = digests[name];
  if (known) return known;
  return sha256Hex(inputs.flatMap((file) => [basename(file), readFileSync(file)]));
}

let digests: Record<string, string> | undefined;

function readDigests(dir: string): Record<string, string> {
  try {
    return JSON.parse(readFileSync(join(dir, "digests.json"), "utf8")) as Record<string, string>;
  } catch {
    return {};
  }
}

/** A helper's cache folder name, from its sources' digest, the compiler, the architecture and the flags. */
export const cacheKey = shortHash;

/**
 * Where the Python probe keeps its files' compiled code (MEMBUDGET_PYCACHE): a folder of the cache,
 * or undefined when there is no usable cache (the probe then compiles them at every start).
 * Code objects are loaded into the workload's interpreters: like the helpers, only from a
 * directory this user alone writes (usableCacheRoot's rule for the temp-dir fallback).
 */
export function pythonCodeCache(): string | undefined {
  if (codeCacheChoice === undefined) {
    const wanted = wantedCacheRoot();
    if (wanted && isDirectory(join(wanted, "python-code"))) codeCacheChoice = join(wanted, "python-code");
  }
  if (codeCacheChoice === undefined) {
    const root = usableCacheRoot();
    codeCacheChoice = null;
    if (!("unavailable" in root)) {
      const dir = join(root.dir, "python-code");
      try {
        mkdirSync(dir, { recursive: true, mode: 0o700 });
        codeCacheChoice = dir;
      } catch {
        // no cache: the probe compiles its files
      }
    }
  }
  return codeCacheChoice ?? undefined;
}

/** pythonCodeCache's folder, found once per process (null: none usable). */
let codeCacheChoice: string | null | undefined;

let cacheChoice: { dir: string; note?: string } | { unavailable: string } | undefined;

/** The cache root as configured (cacheRoot), or undefined without a home directory; not checked. */
function wantedCacheRoot(): string | undefined {
  if (wantedRoot === undefined) {
    try {
      wantedRoot = cacheRoot();
    } catch {
      wantedRoot = null;
    }
  }
  return wantedRoot ?? undefined;
}

let wantedRoot: string | null | undefined;

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The cache root if it can be written; else a directory of this user's under the system's temp
 * directory (said once, in a note); else no cache at all, as without a compiler. A cache dir that
 * is a file or read-only degrades, it does not crash the run.
 */
function usableCacheRoot(): { dir: string; note?: string } | { unavailable: string } {
  if (cacheChoice) return cacheChoice;
  const configured = wantedCacheRoot();
  const wanted = configured ?? "~/.cache/membudget";
  const problem = configured
    ? unwritable(configured)
    : "no home directory: HOME is unset and the user has no passwd entry";
  if (!problem) {
    cacheChoice = { dir: wanted };
    return cacheChoice;
  }
  const fallback = join(tmpdir(), `membudget-cache-${process.getuid?.() ?? "user"}`);
  const fallbackProblem = unwritable(fallback) ?? notPrivate(fallback);
  cacheChoice = fallbackProblem
    ? {
        unavailable: `no usable cache directory: ${wanted} (${problem}), ${fallback} (${fallbackProblem}); set MEMBUDGET_CACHE_DIR`,
      }
    : {
        dir: fallback,
        note: `the cache directory ${wanted} cannot be used (${problem}); the native helpers are built in ${fallback} instead`,
      };
  return cacheChoice;
}

/**
 * The temp directory is shared: helpers that membudget will run must come from a directory only
 * this user can write, or another user could plant one there.
 */
function notPrivate(dir: string): string | undefined {
  try {
    chmodSync(dir, 0o700);
    const st = statSync(dir);
    const uid = process.getuid?.();
    if (uid !== undefined && st.uid !== uid) return "owned by another user";
    return (st.mode & 0o022) !== 0 ? "writable by others" : undefined;
  } catch (err) {
    return errnoOf(err);
  }
}

/** Why `dir` cannot hold the cache (created if missing), or undefined when it can. */
function unwritable(dir: string): string | undefined {
  try {
    if (existsSync(dir) && !statSync(dir).isDirectory()) return "ENOTDIR: it is a file";
    mkdirSync(dir, { recursive: true });
    accessSync(dir, constants.W_OK | constants.X_OK);
    // access() says yes to root on a read-only mount: a real file says what the mount allows.
    const probe = join(dir, `.probe-${process.pid}`);
    writeFileSync(probe, "");
    rmSync(probe, { force: true });
    return undefined;
  } catch (err) {
    return errnoOf(err);
  }
}

function errnoOf(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? String(err);
}
