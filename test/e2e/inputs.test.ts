// The end-to-end runner passes a step the inputs GitHub's runner would: action.yml's, with defaults, hyphens kept.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { inputEnvironment, ROOT, TOKEN } from "./helpers.js";

const ACTION_YML = readFileSync(path.join(ROOT, "action.yml"), "utf8");

/** The `default:` written under an input in action.yml, read straight from the text (an independent reading). */
function writtenDefault(input: string): string | undefined {
  const block = ACTION_YML.match(new RegExp(`^ {2}${input}:\\n((?: {4}.*\\n| {6}.*\\n)+)`, "m"))?.[1];
  return block?.match(/^ {4}default: ?(.*)$/m)?.[1]?.replace(/^"(.*)"$/, "$1");
}

describe("the INPUT_* variables of a step", () => {
  it("hold every input action.yml declares, with its default, under the runner's names", async () => {
    const env = await inputEnvironment({});
    const names = [...ACTION_YML.matchAll(/^ {2}([a-z][a-z-]*):\n {4}description:/gm)]
      .map((m) => m[1]!)
      .filter((n) => ACTION_YML.indexOf(`  ${n}:\n`) < ACTION_YML.indexOf("\noutputs:"));
    expect(Object.keys(env)).toEqual(names.map((n) => `INPUT_${n.toUpperCase()}`));
    expect(env["INPUT_WORKING-DIRECTORY"]).toBe(writtenDefault("working-directory"));
    expect(env["INPUT_BUDGETS"]).toBe(writtenDefault("budgets"));
    expect(env["INPUT_REPORT-PATH"]).toBe(writtenDefault("report-path"));
    expect(env["INPUT_KEY"]).toBe("");
  });

  it("evaluate the github.token expression default to the job's token", async () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the GitHub expression action.yml writes
    expect(writtenDefault("github-token")).toBe("${{ github.token }}");
    expect((await inputEnvironment({}))["INPUT_GITHUB-TOKEN"]).toBe(TOKEN);
  });

  it("take the step's `with:` over the defaults", async () => {
    const env = await inputEnvironment({ comment: "from-report", "report-path": "r/report.json" });
    expect(env["INPUT_COMMENT"]).toBe("from-report");
    expect(env["INPUT_REPORT-PATH"]).toBe("r/report.json");
    expect(env["INPUT_FAIL-ON"]).toBe(writtenDefault("fail-on"));
  });

  it("refuse an input action.yml does not declare", async () => {
    await expect(inputEnvironment({ "fail-on": "over", coment: "always" })).rejects.toThrow(
      "action.yml declares no input coment",
    );
  });
});
