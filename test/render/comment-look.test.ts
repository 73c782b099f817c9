// The comment of a pull request that regresses two scenarios, as a reviewer's browser shows it at
// GitHub's comment width, light and dark: one row per scenario that needs attention, no cell that
// wraps, every chart within the body. Screenshots land in $MEMBUDGET_SCREENSHOTS when it is set.

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { renderMarkdown } from "../../src/render/markdown.js";
import { CHROMIUM, githubPage, layoutOf, screenshot } from "../helpers/comment-page.js";
import { regressedPullRequest } from "../helpers/regressed-pr.js";

const shots = process.env["MEMBUDGET_SCREENSHOTS"] ?? mkdtempSync(join(tmpdir(), "mb-shots-"));

describe("the regressed pull request's comment", () => {
  const report = regressedPullRequest();
  const markdown = renderMarkdown(report);

  it("has one row per scenario that needs attention, with the figure that decides it", () => {
    const main = markdown.split("\n\n").find((block) => block.includes("| Scenario | Decided by |"))!;
    const rows = main.split("\n").slice(2);
    expect(rows.map((r) => r.split(" | ").slice(0, 3).join(" | "))).toEqual([
      "| 🔴 | **catalog-dicts** | peak\u00a0heap",
      "| 🔴 | **pytest-catalog** | 2 tests over budget",
      "| 🟠 | **ingest** | allocations",
    ]);
  });

  it.skipIf(!CHROMIUM).each([
    ["light", false],
    ["dark", true],
  ])(
    "fits GitHub's 780 px comment, %s",
    (name, dark) => {
      const dom = screenshot(githubPage(markdown, { dark }), join(shots, `comment-${name}.png`), 2600);
      const layout = layoutOf(dom);
      expect(layout.wrapped).toEqual([]);
      expect(layout.wide).toEqual([]);
    },
    180_000,
  );
});
