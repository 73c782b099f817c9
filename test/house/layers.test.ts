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

/**
 * Pure functions over plain data (docs/architecture.md names them): no Node.js module, no `process`.
 * render/progress.ts is the one renderer with an effect: it writes progress lines to the stream it
 * is handed (and the workload's output, with --verbose, to ours).
 */
const PURE = [
  "verdict/",
  "render/",
  "report/merge.ts",
  "config/select.ts",
  "config/problems.ts",
  "config/update.ts",
  "config/load-block.ts",
  "config/runtime.ts",
  "config/types.ts",
];
const EFFECTFUL_RENDERER = "render/progress.ts";

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

  it("keeps the pure stages pure: no Node.js module and no process in them", () => {
    const pure = ts.filter((f) => {
      const path = relative(SRC, f);
      return path !== EFFECTFUL_RENDERER && PURE.some((p) => path === p || path.startsWith(p));
    });
    expect(pure.length).toBeGreaterThan(20);
    const touching = pure.flatMap((f) => {
      const text = readFileSync(f, "utf8");
      const found = [...text.matchAll(/from\s+["'](node:[a-z_/]+)["']|\bprocess\.[a-z]+/g)].map((m) => m[0]);
      return found.map((what) => `${relative(SRC, f)}: ${what}`);
    });
    expect(touching).toEqual([]);
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
