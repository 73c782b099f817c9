// The probes' version: membudget's version and a digest of every file that runs inside a workload.
// Figures from another version of the probes are not compared as if the code alone had changed.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { sha256Hex } from "../model/hash.js";
import { VERSION } from "../model/version.js";
import { probeDir } from "./probe-files.js";

let cached: string | undefined;

/**
 * "0.1.0+<12 hex>". The build writes the digest into probes/version.json (scripts/build.mjs, the
 * same way as here), so that a start neither walks the files nor hashes them; from the sources
 * (under test) it is worked out here.
 */
export function probeVersion(): string {
  if (cached) return cached;
  const dir = probeDir();
  let digest: string | undefined;
  try {
    digest = (JSON.parse(readFileSync(join(dir, "version.json"), "utf8")) as { digest?: string }).digest;
  } catch {
    digest = undefined;
  }
  digest ??= probeDigest(dir);
  cached = `${VERSION}+${digest.slice(0, 12)}`;
  return cached;
}

/** SHA-256 over each probe file's path (relative, "/"-separated) and bytes, in path order. */
export function probeDigest(dir: string): string {
  const files = [...walk(dir)]
    .map((file) => relative(dir, file).split(sep).join("/"))
    .filter((f) => !f.endsWith(".ts") && !f.includes("__pycache__") && !f.endsWith(".json"))
    .sort();
  return sha256Hex(files.flatMap((f) => [f, readFileSync(join(dir, f))]));
}

function* walk(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else yield path;
  }
}
