import { describe, expect, it } from "vitest";
import type { Report, Site } from "../../src/model/report.js";
import { renderMarkdown, siteUrl } from "../../src/render/markdown.js";
import { renderTerminal } from "../../src/render/terminal.js";
import { judge } from "../../src/verdict/judge.js";
import { MiB, report } from "../helpers/reports.js";

const COMMIT = "5d6e7f80123456789abcdef0123456789abcdef0";
const site = (location: string, fn: string | undefined, bytes: number): Site => ({
  location,
  ...(fn ? { function: fn } : {}),
  bytes,
});

/** "catalog" grew past its budget at the head; "lean" passes; both have sites on both sides. */
function pullRequest(headSites: Site[], extra: Partial<Report> = {}): Report {
  const specs = [
    { name: "catalog", runs: [{ peakHeap: 66 * MiB }], budget: { peakHeap: 64 * MiB } },
    { name: "lean", runs: [{ peakHeap: 5 * MiB }], budget: { peakHeap: 64 * MiB } },
  ];
  const base = report(
    specs.map((s) => ({ ...s, runs: [{ peakHeap: s.name === "catalog" ? 48 * MiB : 5 * MiB }] })),
  );
  const head = report(specs);
  for (const r of [base, head]) r.scenarios[1]!.sites = { peak: [site("lean.py:3", "tiny", MiB)] };
  base.scenarios[0]!.sites = {
    peak: [
      site("catalog/load.py:40", "read_rows", 30 * MiB),
      site("catalog/index.py:12", "build_index", 12 * MiB),
    ],
  };
  head.scenarios[0]!.sites = { peak: headSites };
  return judge(
    {
      ...head,
      base: { source: "base" },
      commit: COMMIT,
      links: { repository: "https://github.com/octo/shop" },
      ...extra,
    },
    { base },
  );
}

const grown = [
  site("catalog/load.py:44", "read_rows", 31 * MiB),
  site("catalog/extra.py:5", "build_lookup", 18 * MiB),
  site("catalog/index.py:12", "build_index", 11 * MiB),
];

describe("allocation sites in the comment", () => {
  it("lists the sites that grew most under the failing scenario, each linked to its line at the head", () => {
    const md = renderMarkdown(pullRequest(grown));
    const lines = md.split("\n");
    const summary = lines.findIndex((l) =>
      l.startsWith(
        "<details><summary>Where the memory went in catalog: the sites that grew most against the base",
      ),
    );
    expect(summary).toBeGreaterThan(lines.findIndex((l) => l.includes("**catalog**")));
    expect(lines.slice(summary + 2, summary + 6)).toEqual([
      "| Site | Function | Head | Base | Change |",
      "|---|---|---:|---:|---:|",
      `| [catalog/extra.py:5](https://github.com/octo/shop/blob/${COMMIT}/catalog/extra.py#L5) | build\\_lookup | 18.0 MiB | — | new |`,
      `| [catalog/load.py:44](https://github.com/octo/shop/blob/${COMMIT}/catalog/load.py#L44) | read\\_rows | 31.0 MiB | 30.0 MiB | +3.3% |`,
    ]);
    // The shrunk site is not there, nor are the passing scenario's sites.
    expect(md).not.toContain("build\\_index");
    expect(md).not.toContain("lean.py");
  });

  it("shows the head's peak sites when there is no base", () => {
    const r = report([{ name: "solo", runs: [{ peakHeap: 70 * MiB }], budget: { peakHeap: 64 * MiB } }]);
    r.scenarios[0]!.sites = { peak: [{ ...site("solo.py:9", "fill", 52_428_800), count: 3 }] };
    const md = renderMarkdown(r);
    expect(md).toContain("Where the memory went in solo: the sites holding most at the peak</summary>");
    expect(md).toContain("| Site | Function | Bytes | Count |");
    expect(md).toContain("| solo.py:9 | fill | 50.0 MiB | 3 |"); // no repository known: no link
  });

  it("escapes locations and function names, and links only plain paths in the repository", () => {
    const hostile = [
      site("a|b <img src=x>.py:1", "f|g @octocat", 9 * MiB),
      site("/etc/passwd:2", "abs", 8 * MiB),
      site("../outside.py:3", "up", 7 * MiB),
      site("javascript:alert(1)", "js", 6 * MiB),
      site("pkg/(weird) name.py:4", undefined, 5 * MiB),
    ];
    const md = renderMarkdown(pullRequest(hostile));
    expect(md).not.toContain("<img");
    expect(md).not.toMatch(/@octocat/);
    const rows = md.split("\n").filter((l) => l.startsWith("| ") && l.includes(" MiB | — | new |"));
    expect(rows).toHaveLength(5);
    for (const row of rows) expect(row.split(" | ")).toHaveLength(5); // the table's own pipes only
    expect(md).not.toContain("/blob/" + COMMIT + "/etc");
    expect(md).not.toContain("outside.py#");
    expect(md).not.toContain("](javascript");
    expect(md).toContain(`(https://github.com/octo/shop/blob/${COMMIT}/pkg/%28weird%29%20name.py#L4)`);
  });

  it("links nothing when the report's repository or commit is not what membudget writes", () => {
    const r = pullRequest(grown);
    expect(siteUrl(r, "a.py:1")).toBe(`https://github.com/octo/shop/blob/${COMMIT}/a.py#L1`);
    expect(siteUrl({ ...r, links: { repository: "javascript:alert(1)//" } }, "a.py:1")).toBeUndefined();
    expect(
      siteUrl({ ...r, links: { repository: "https://x/y) [z](https://evil" } }, "a.py:1"),
    ).toBeUndefined();
    expect(siteUrl({ ...r, commit: "main; rm" }, "a.py:1")).toBeUndefined();
    const { commit: _c, ...noCommit } = r;
    expect(siteUrl(noCommit, "a.py:1")).toBeUndefined();
    // Library code and Node built-ins are not files of the repository.
    expect(siteUrl(r, "<stdlib>/json/decoder.py:353")).toBeUndefined();
    expect(siteUrl(r, "<site-packages>/pkg/x.py:10")).toBeUndefined();
    expect(siteUrl(r, "node:internal/streams/readable:12")).toBeUndefined();
  });
});

describe("allocation sites in the terminal", () => {
  it("indents at most five top sites under the failing scenario, none under a passing one", () => {
    const many = Array.from({ length: 8 }, (_, i) =>
      site(`catalog/m${i}.py:${i + 1}`, `f${i}`, (20 - i) * MiB),
    );
    const text = renderTerminal(pullRequest(many), { colour: false });
    const lines = text.split("\n");
    const at = lines.findIndex((l) => l.startsWith("catalog "));
    expect(lines[at + 1]).toBe("  sites that grew most against the base:");
    expect(lines[at + 2]).toMatch(/^ {4}new {2}20\.0 MiB {2}catalog\/m0\.py:1 {2}f0$/);
    const block = lines.slice(at + 2).filter((l) => l.startsWith("    "));
    expect(block).toHaveLength(5);
    expect(lines[at + 7]).toMatch(/^lean\s+peak heap/);
    expect(text).not.toContain("lean.py");
  });

  it("says how much a matched site grew and from what", () => {
    const text = renderTerminal(pullRequest(grown), { colour: false });
    expect(text).toMatch(/\+1\.0 MiB {2}31\.0 MiB {2}catalog\/load\.py:44 {2}read_rows \(from 30\.0 MiB\)/);
  });

  it("keeps control characters from workloads out of the terminal", () => {
    const text = renderTerminal(pullRequest([site("x.py:1", "\x1b[31mred\x1b[0m", 40 * MiB)]), {
      colour: false,
    });
    expect(text).not.toContain("\x1b");
  });
});
