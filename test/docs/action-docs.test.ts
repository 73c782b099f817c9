// docs/action.md's input and output tables are the ones scripts/action-docs.mjs makes from action.yml, and list what GitHub reads there.
import { execFileSync, spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseActionFile } from "./github-parser.js";
import { ROOT } from "./markdown.js";

const SCRIPT = path.join(ROOT, "scripts", "action-docs.mjs");
const DOC = path.join(ROOT, "docs", "action.md");
const ACTION = path.join(ROOT, "action.yml");

const runScript = (...args: string[]) =>
  spawnSync(process.execPath, [SCRIPT, ...args], { cwd: ROOT, encoding: "utf8" });

/** The rows of the Markdown table that follows a marker: first cell (the name) → the other cells. */
function tableAfter(doc: string, marker: string): Map<string, string[]> {
  const lines = doc.slice(doc.indexOf(marker)).split("\n").slice(1);
  const rows = new Map<string, string[]>();
  for (const line of lines.slice(2)) {
    if (!line.startsWith("|")) break;
    const cells = line
      .slice(1, -1)
      .split(/(?<!\\)\|/)
      .map((c) => c.trim());
    rows.set(cells[0]!.replace(/^`|`$/g, ""), cells.slice(1));
  }
  return rows;
}

describe("docs/action.md's input and output tables", () => {
  it("are what npm run docs writes from action.yml", () => {
    const result = runScript("--check");
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
  });

  it("list exactly the inputs and outputs GitHub's parser reads in action.yml, with their defaults", async () => {
    const { template } = await parseActionFile("action.yml", readFileSync(ACTION, "utf8"));
    const doc = readFileSync(DOC, "utf8");
    const inputs = tableAfter(doc, "<!-- inputs:");
    const outputs = tableAfter(doc, "<!-- outputs:");
    expect([...inputs.keys()]).toEqual(template!.inputs!.map((i) => i.id));
    expect([...outputs.keys()]).toEqual(template!.outputs!.map((o) => o.id));
    for (const input of template!.inputs!) {
      const fallback = input.default?.toDisplayString() ?? "";
      expect(inputs.get(input.id)![0], input.id).toBe(fallback === "" ? "(empty)" : `\`${fallback}\``);
    }
  });

  it("--check fails, and npm run docs rewrites, when action.yml changes", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "membudget-action-docs-"));
    const doc = path.join(dir, "action.md");
    const action = path.join(dir, "action.yml");
    copyFileSync(DOC, doc);
    writeFileSync(
      action,
      readFileSync(ACTION, "utf8").replace("default: membudget.json", "default: budgets.json"),
    );

    const check = runScript("--check", "--action", action, "--doc", doc);
    expect(check.status).toBe(1);
    expect(check.stderr).toMatch(/differ from .*action\.yml: run npm run docs/);

    execFileSync(process.execPath, [SCRIPT, "--action", action, "--doc", doc], { cwd: ROOT });
    expect(tableAfter(readFileSync(doc, "utf8"), "<!-- inputs:").get("budgets")![0]).toBe("`budgets.json`");
    expect(runScript("--check", "--action", action, "--doc", doc).status).toBe(0);
  });
});
