// Every budget file the documentation shows is one `membudget validate` accepts, so a copied example works.
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { codeBlocks, documents, ROOT, readDocument } from "./markdown.js";

const CLI = path.join(ROOT, "dist", "cli.js");

const snippets = documents().flatMap((doc) =>
  codeBlocks(readDocument(doc))
    .filter((b) => (b.lang === "json" || b.lang === "jsonc") && b.body.includes('"scenarios"'))
    .map((b) => ({ where: `${doc}:${b.line}`, body: b.body })),
);

function validate(body: string) {
  const file = path.join(mkdtempSync(path.join(tmpdir(), "membudget-doc-budgets-")), "membudget.json");
  writeFileSync(file, body);
  return spawnSync(process.execPath, [CLI, "validate", file], { encoding: "utf8" });
}

describe("budget files in the documentation", () => {
  it("are there: the quick start's and the budget file page's", () => {
    expect(snippets.map((s) => s.where.split(":")[0])).toEqual(
      expect.arrayContaining(["README.md", "docs/budget-file.md"]),
    );
  });

  for (const snippet of snippets) {
    it(`${snippet.where} is a valid budget file`, () => {
      const result = validate(snippet.body);
      expect(result.stderr).toBe("");
      expect(result.status).toBe(0);
    });
  }

  it("a wrong one is refused (the check is not empty)", () => {
    const result = validate('{ "scenarios": { "x": { "run": "true", "budget": { "peakheap": "1 MiB" } } } }');
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/did you mean "peakHeap"/);
  });
});
