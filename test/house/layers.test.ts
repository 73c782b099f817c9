// The shape of src/ that docs/architecture.md describes: stages import only from the stages before them,
// no file grows past what one job needs, and no source cites a document the repository lacks.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SRC = join(ROOT, "src");

/** Stages in data-flow order (docs/architecture.md): each may import itself and those before it. */
const STAGES = [
  "model",
  "git",
  "config",
  "measure",
  "verdict",
  "report",
  "engine",
  "render",
  "github",
  "cli",
  "action",
];
/** The adapters never import each other. */
const ADAPTERS = new Set(["cli", "action"]);

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.(ts|cjs|py|c)$/.test(name) ? [path] : [];
  });
}

const stageOf = (file: string) => relative(SRC, file).split("/")[0]!;

function importsOf(file: string): string[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/(?:from|import\()\s*["'](\.{1,2}\/[^"']+)["']/g)].map((m) =>
    resolve(dirname(file), m[1]!),
  );
}

describe("the house", () => {
  const files = sources(SRC);
  const ts = files.filter((f) => f.endsWith(".ts"));

  it("has every source file in a known stage", () => {
    expect(ts.filter((f) => !STAGES.includes(stageOf(f))).map((f) => relative(ROOT, f))).toEqual([]);
  });

  it("imports only downward: config → measure → verdict → report → engine → render → publish", () => {
    const wrong: string[] = [];
    for (const file of ts) {
      const from = stageOf(file);
      for (const target of importsOf(file)) {
        if (!target.startsWith(SRC)) continue; // package.json for the version
        const to = stageOf(target);
        const later = STAGES.indexOf(to) > STAGES.indexOf(from);
        const sideways = ADAPTERS.has(from) && ADAPTERS.has(to) && from !== to;
        if (later || sideways) wrong.push(`${relative(SRC, file)} → ${relative(SRC, target)}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it("keeps each source file to one job (at most ~450 lines)", () => {
    const long = files
      .map((f) => ({ file: relative(ROOT, f), lines: readFileSync(f, "utf8").split("\n").length }))
      .filter((f) => f.lines > 480);
    expect(long).toEqual([]);
  });

  it("cites only documents the repository has", () => {
    const missing: string[] = [];
    for (const file of files) {
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(/\b(docs\/[a-z-]+\.md|[A-Z][A-Za-z-]*\.md)\b/g)) {
        const doc = m[1]!;
        const found = [join(ROOT, doc), join(ROOT, "docs", doc)].some((p) => existsSync(p));
        if (!found) missing.push(`${relative(ROOT, file)}: ${doc}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
