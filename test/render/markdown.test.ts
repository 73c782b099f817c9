import { describe, expect, it } from "vitest";
import { COMMENT_LIMIT } from "../../src/model/limits.js";
import { renderMarkdown } from "../../src/render/markdown.js";
import { escapeMarkdown } from "../../src/render/text.js";
import { MiB, report } from "../helpers/reports.js";

describe("markdown report", () => {
  const base = report([
    { name: "load-catalog", runs: [{ peakHeap: 48 * MiB }], budget: { peakHeap: 64 * MiB } },
    { name: "parse", runs: [{ peakHeap: 10 * MiB }], budget: { peakHeap: 16 * MiB } },
  ]);
  const head = report(
    [
      { name: "load-catalog", runs: [{ peakHeap: 66.24 * MiB }], budget: { peakHeap: 64 * MiB } },
      { name: "parse", runs: [{ peakHeap: 10 * MiB }], budget: { peakHeap: 16 * MiB } },
    ],
    base,
    {
      commit: "def5678aaaaaaa",
      links: {
        repository: "https://github.com/o/r",
        run: "https://github.com/o/r/actions/runs/1",
        summary: "https://github.com/o/r/actions/runs/1#summary",
      },
    },
  );

  it("says the verdict first, then what grew, by how much, against which budget", () => {
    const md = renderMarkdown(head);
    const lines = md.split("\n");
    expect(lines[0]).toBe("### 🔴 membudget: 1 of 2 scenarios over budget");
    // One row for the scenario: the figure that decides it, base → head, change, budget; the
    // status is the icon, said in words by the legend under the table. Figures never break a line.
    const row = lines.find((l) => l.includes("**load-catalog**"));
    expect(row).toBe(
      "| 🔴 | **load-catalog** | peak\u00a0heap | 48.0\u00a0MiB | 66.2\u00a0MiB | **+38.0%** | 64.0\u00a0MiB |",
    );
    expect(md).toContain("<sub>🔴 over budget</sub>");
    // The passing scenario is folded away.
    const details = md.indexOf("<details><summary>1 other scenario</summary>");
    expect(details).toBeGreaterThan(md.indexOf("**load-catalog**"));
    expect(md.indexOf("**parse**")).toBeGreaterThan(details);
    expect(md).toContain("[job summary](https://github.com/o/r/actions/runs/1#summary)");
  });

  it("escapes names and output so they cannot break the table, open HTML or mention anyone", () => {
    const evil = report([
      { name: "a|b <img src=x> @octocat", runs: [{ peakHeap: 2 * MiB }], budget: { peakHeap: MiB } },
      { name: "crash", runs: [{ peakHeap: MiB }], error: "exited with code 1 <script> @admin" },
    ]);
    const md = renderMarkdown(evil);
    expect(md).not.toContain("<img");
    expect(md).not.toContain("<script>");
    expect(md).not.toMatch(/@octocat|@admin/);
    const row = md.split("\n").find((l) => l.includes("img"));
    // Exactly the table's own pipes: the name's pipe is an entity.
    expect(row?.split("|").length).toBe(7);
    expect(escapeMarkdown("[x](javascript:1)")).toBe("\\[x\\]\\(javascript:1\\)");
  });

  it("stays within GitHub's comment limit for 400 failing scenarios with long names", () => {
    const many = report(
      Array.from({ length: 400 }, (_, i) => ({
        name: `scenario-${i}-${"x".repeat(80)}`,
        runs: [{ peakHeap: 2 * MiB, allocated: 9 * MiB, peakRss: 50 * MiB, wallTime: 1 }],
        budget: { peakHeap: MiB, allocated: 8 * MiB, peakRss: 40 * MiB, wallTime: 0.5 },
      })),
    );
    const md = renderMarkdown(many, { header: "<!-- membudget -->" });
    expect(md.length).toBeLessThanOrEqual(COMMENT_LIMIT);
    expect(md.startsWith("<!-- membudget -->\n### 🔴 membudget: 400 of 400 scenarios over budget")).toBe(
      true,
    );
    expect(md).toMatch(/more scenarios need attention: see the job summary/);
  });
});
