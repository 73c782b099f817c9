// Locates the probe files (Python sitecustomize, Node --require script, C sources) at run time,
// both from the bundle (dist/probes) and from the sources (src/measure/probes) under test.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

let cached: string | undefined;

export function probeDir(): string {
  if (cached) return cached;
  const here = dirname(fileURLToPath(import.meta.url));
  // src/measure/probe-files.ts → ./probes ; dist/cli.js → ./probes ; dist/chunks/x.js → ../probes
  for (const candidate of [join(here, "probes"), join(here, "..", "probes")]) {
    if (existsSync(join(candidate, "native"))) {
      cached = candidate;
      return candidate;
    }
  }
  throw new Error(`membudget: probe files not found next to ${here} (a broken install?)`);
}

export function probeFile(...parts: string[]): string {
  return join(probeDir(), ...parts);
}
