// Builds the small C helpers (malloc interposer, RSS wrapper) with the machine's compiler on
// first use and caches them by source hash, so that nothing prebuilt has to ship per platform.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from "node:fs";
import { homedir, platform } from "node:os";
import { dirname, join } from "node:path";
import { probeFile } from "./probe-files.js";

export type NativeKind = "shared" | "executable";

export interface NativeTool {
  name: string;
  path?: string;
  /** Why the tool is not available (no compiler, not Linux, compile error), said once to the user. */
  unavailable?: string;
}

const memo = new Map<string, NativeTool>();

export function cacheRoot(): string {
  const base =
    process.env["MEMBUDGET_CACHE_DIR"] ?? process.env["XDG_CACHE_HOME"] ?? join(homedir(), ".cache");
  return process.env["MEMBUDGET_CACHE_DIR"] ? base : join(base, "membudget");
}

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

function build(name: string, kind: NativeKind): NativeTool {
  if (platform() !== "linux") {
    return { name, unavailable: `${name} needs Linux (this is ${platform()})` };
  }
  const { sources, inputs } = nativeSources(name);
  const cc = process.env["CC"] ?? "cc";
  const digest = createHash("sha256");
  for (const file of inputs) digest.update(file).update(readFileSync(file));
  const hash = digest.update(cc).update(process.arch).digest("hex").slice(0, 16);
  const dir = join(cacheRoot(), hash);
  const out = join(dir, kind === "shared" ? `lib${name}.so` : name);
  if (existsSync(out)) return { name, path: out };
  mkdirSync(dir, { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  const flags =
    kind === "shared"
      ? ["-O2", "-shared", "-fPIC", "-fvisibility=hidden", "-o", tmp, ...sources, "-ldl", "-lpthread"]
      : ["-O2", "-o", tmp, ...sources];
  const result = spawnSync(cc, flags, { encoding: "utf8" });
  if (result.error) {
    return { name, unavailable: `no C compiler (${cc}: ${result.error.message}); install gcc or set CC` };
  }
  if (result.status !== 0) {
    return { name, unavailable: `${cc} could not build ${name}: ${result.stderr.trim().slice(0, 2000)}` };
  }
  // Atomic publish: concurrent runs may build the same helper.
  renameSync(tmp, out);
  return { name, path: out };
}
