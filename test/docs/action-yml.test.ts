// action.yml as GitHub loads it: its own parser and action schema must accept the file with no error.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseActionFile } from "./github-parser.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const ACTION_YML = readFileSync(path.join(ROOT, "action.yml"), "utf8");

describe("action.yml", () => {
  it("has no error in GitHub's parser (parseAction + convertActionTemplate)", async () => {
    const { errors, template } = await parseActionFile("action.yml", ACTION_YML);
    expect(errors).toEqual([]);
    expect(template?.name).toBe("membudget");
  });

  it("runs the committed bundle on node24", async () => {
    const { template } = await parseActionFile("action.yml", ACTION_YML);
    expect(template?.runs).toMatchObject({ using: "node24", main: "dist/index.js" });
    expect(existsSync(path.join(ROOT, "dist", "index.js"))).toBe(true);
  });

  it("describes every input and output", async () => {
    const { template } = await parseActionFile("action.yml", ACTION_YML);
    const undescribed = [...(template?.inputs ?? []), ...(template?.outputs ?? [])]
      .filter((d) => !d.description?.trim())
      .map((d) => d.id);
    expect(undescribed).toEqual([]);
    expect(template?.inputs?.length).toBeGreaterThan(0);
    expect(template?.outputs?.length).toBeGreaterThan(0);
  });

  // The parser really is the check: the two mistakes action.yml once had, put back, are reported.
  it("would report an expression in a description and a `: ` in a plain scalar", async () => {
    // An entry's description, whether a one-line scalar or a `>-` block.
    const description = (entry: string) =>
      new RegExp(`^( {2}${entry}:\\n {4}description: )(?:>-\\n(?: {6}.*\\n)+|.*\\n)`, "m");
    const withExpression = ACTION_YML.replace(
      description("key"),
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the expression GitHub rejects here
      "$1Tells matrix legs apart, e.g. ${{ matrix.python }}.\n",
    );
    expect(withExpression).not.toBe(ACTION_YML);
    expect((await parseActionFile("action.yml", withExpression)).errors.join("\n")).toMatch(
      /Unrecognized named-value: 'matrix'/,
    );

    const withColon = ACTION_YML.replace(
      description("failed"),
      "$1Names of the scenarios that failed (also regressed with fail-on: regressed).\n",
    );
    expect(withColon).not.toBe(ACTION_YML);
    expect((await parseActionFile("action.yml", withColon)).errors.length).toBeGreaterThan(0);
  });
});
