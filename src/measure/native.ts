// Builds the small C helpers (malloc interposer, RSS wrapper) with the machine's compiler on
// first use and caches them by source hash, so that nothing prebuilt has to ship per platform.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync } from "node:fs";
import { homedir, platform } from "node:os";
import { join } from "node:path";
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

function build(name: string, kind: NativeKind): NativeTool {
  if (platform() !== "linux") {
    return { name, unavailable: `${name} needs Linux (this is ${platform()})` };
  }
  const source = probeFile("native", `${name}.c`);
  const text = readFileSync(source);
  const cc = process.env["CC"] ?? "cc";
  const hash = createHash("sha256").update(text).update(cc).update(process.arch).digest("hex").slice(0, 16);
  const dir = join(cacheRoot(), hash);
  const out = join(dir, kind === "shared" ? `lib${name}.so` : name);
  if (existsSync(out)) return { name, path: out };
  mkdirSync(dir, { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  const flags =
    kind === "shared"
      ? ["-O2", "-shared", "-fPIC", "-fvisibility=hidden", "-o", tmp, source, "-ldl", "-lpthread"]
      : ["-O2", "-o", tmp, source];
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
