// What a reader sees of awkward names (issue 10, item 9): a `|` in a scenario name or a site path is
// a `|` in the rendered table, and a run whose every scenario passes says so in words that fit.
import { describe, expect, it } from "vitest";
import { renderMarkdown } from "../../src/render/markdown.js";
import { escapeMarkdown } from "../../src/render/text.js";
import { commentPage, parseHtml } from "../helpers/comment-page.js";
import { MiB, report } from "../helpers/reports.js";

/** The rendered table cells' text, row by row, as GitHub's markdown (GFM) makes them. */
function cellsOf(markdown: string): string[][] {
  const page = parseHtml(commentPage(markdown));
  return Array.from(page.querySelectorAll("table tr"), (tr) =>
    Array.from(tr.querySelectorAll("td, th"), (td) => (td.textContent ?? "").trim()),
  );
}

describe("escaping that reads right", () => {
  it("a | in a scenario name is one cell showing a |, not the text &#124;", () => {
    const r = report([{ name: "parse a|b", runs: [{ peakHeap: 2 * MiB }], budget: { peakHeap: MiB } }]);
    const md = renderMarkdown(r);
    expect(md).not.toContain("\\&#124;");
    const row = cellsOf(md).find((cells) => cells.some((c) => c.includes("parse")));
    expect(row).toBeDefined();
    expect(row).toContain("parse a|b");
    expect(row!.join(" ")).not.toContain("&#124;");
  });

  it("a | in a site's path renders as a |, and the link still points at the file", () => {
    const r = report(
      [{ name: "sites", runs: [{ peakHeap: 2 * MiB }], budget: { peakHeap: MiB } }],
      undefined,
      {
        commit: "0123456789abcdef0123456789abcdef01234567",
        links: { repository: "https://github.com/o/r" },
      },
    );
    r.scenarios[0]!.sites = {
      peak: [{ location: "src/a|b.py:12", function: "load|parse", bytes: 2 * MiB, count: 3 }],
    };
    const md = renderMarkdown(r);
    const page = parseHtml(commentPage(md));
    const link = Array.from(page.querySelectorAll("a")).find((a) => (a.textContent ?? "").includes("a|b.py"));
    expect(link?.textContent).toBe("src/a|b.py:12");
    expect(link?.getAttribute("href")).toBe(
      "https://github.com/o/r/blob/0123456789abcdef0123456789abcdef01234567/src/a%7Cb.py#L12",
    );
    expect(md).not.toContain("&\\#");
  });

  it("every markdown-special character survives as itself", () => {
    const text = "a|b #1 *x* _y_ [z](w) `c` <d> & @e ~f~ !g \\h";
    const page = parseHtml(commentPage(`| x |\n|---|\n| ${escapeMarkdown(text)} |\n`));
    // Zero-width spaces keep @e and #1 from being links on GitHub; the rest is the text as written.
    expect((page.querySelector("td")?.textContent ?? "").replace(/\u200b/g, "")).toBe(text);
  });

  it("10,000 passing scenarios with nothing shown say so, not '10000 other scenarios not shown'", () => {
    const many = report(
      Array.from({ length: 10_000 }, (_, i) => ({
        name: `s${i}`,
        runs: [{ peakHeap: MiB }],
        budget: { peakHeap: 2 * MiB },
      })),
    );
    const md = renderMarkdown(many, { limit: 4000 });
    expect(md.length).toBeLessThanOrEqual(4000);
    expect(md).toContain(
      "The table of all 10,000 scenarios is left out: with it it would be over the limit of",
    );
    expect(md).not.toMatch(/\d+ other scenarios/);
  });

  it("with some shown, the rest are 'other' scenarios, counted with separators", () => {
    const mixed = report([
      { name: "over", runs: [{ peakHeap: 3 * MiB }], budget: { peakHeap: MiB } },
      ...Array.from({ length: 1500 }, (_, i) => ({
        name: `ok${i}`,
        runs: [{ peakHeap: MiB }],
        budget: { peakHeap: 2 * MiB },
      })),
    ]);
    const md = renderMarkdown(mixed, { limit: 3000 });
    expect(md).toContain("1,500 other scenarios are left out: with them it would be over the limit of");
  });
});
