// @vitest-environment jsdom
// Mermaid's parser needs a DOM (DOMPurify), hence jsdom: every chart below is parsed by the real package.
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { COMMENT_LIMIT } from "../../src/model/limits.js";
import type { Report, TimelinePoint } from "../../src/model/report.js";
import { renderMarkdown } from "../../src/render/markdown.js";
import {
  CHART_POINTS,
  COLOURS,
  chartTitle,
  fitAxis,
  mermaidChart,
  resample,
} from "../../src/render/mermaid.js";
import { judge } from "../../src/verdict/judge.js";
import { MiB, report } from "../helpers/reports.js";

/** A run that climbs to `peak` bytes at 60 % of `seconds`, then falls back; heap optional. */
function timeline(seconds: number, peak: number, points = 200, heap = false): TimelinePoint[] {
  return Array.from({ length: points }, (_, i) => {
    const t = (i / (points - 1)) * seconds;
    const f = t / seconds;
    const rss = 20 * MiB + (f <= 0.6 ? f / 0.6 : (1 - f) / 0.4) * (peak - 20 * MiB);
    return { t, rss, ...(heap ? { heap: rss / 2 } : {}) };
  });
}

async function parseMermaid(block: string): Promise<{ diagramType: string }> {
  const { default: mermaid } = await import("mermaid");
  const source = block.replace(/^```mermaid\n/, "").replace(/\n```$/, "");
  return (await mermaid.parse(source)) as { diagramType: string };
}

function blocks(md: string): string[] {
  return Array.from(md.matchAll(/```mermaid\n[\s\S]*?\n```/g), (m) => m[0]);
}

/** n scenarios over budget at the head, each with a timeline, base and head sites. */
function pullRequest(n: number, name = (i: number) => `scenario-${i}`): Report {
  const specs = Array.from({ length: n }, (_, i) => ({
    name: name(i),
    runs: [{ peakHeap: 70 * MiB }],
    budget: { peakHeap: 64 * MiB },
  }));
  const base = report(specs.map((s) => ({ ...s, runs: [{ peakHeap: 50 * MiB }] })));
  const head = report(specs);
  for (const [i, s] of base.scenarios.entries()) {
    s.timeline = timeline(2 + (i % 3), 60 * MiB, 200, true);
    s.sites = {
      peak: Array.from({ length: 10 }, (_, k) => ({
        location: `pkg/module_${k}.py:${10 + k}`,
        function: `fn_${k}`,
        bytes: (10 - k) * MiB,
      })),
    };
  }
  for (const [i, s] of head.scenarios.entries()) {
    s.timeline = timeline(3 + (i % 5), 80 * MiB, 200, true);
    s.sites = {
      peak: Array.from({ length: 10 }, (_, k) => ({
        location: `pkg/module_${k}.py:${12 + k}`,
        function: `fn_${k}`,
        bytes: (10 - k) * MiB + k * 300_000,
      })),
    };
  }
  return judge(
    {
      ...head,
      base: { source: "base" },
      commit: "0123456789abcdef0123456789abcdef01234567",
      links: { repository: "https://github.com/o/r", summary: "https://github.com/o/r/actions/runs/1" },
    },
    { base },
  );
}

describe("resampling a timeline for a chart", () => {
  it("gives a fixed number of points over the run's fraction, keeping a short peak", () => {
    const t = timeline(10, 100 * MiB);
    t[77] = { t: t[77]!.t, rss: 500 * MiB }; // a spike one sample wide
    const values = resample(t, "rss")!;
    expect(values).toHaveLength(CHART_POINTS);
    expect(Math.max(...values)).toBe(500 * MiB);
    // The ends are the largest samples within half a step (of 39) of 0 % and 100 %.
    const within = (lo: number, hi: number) =>
      Math.max(...t.filter((p) => p.t / 10 >= lo && p.t / 10 < hi).map((p) => p.rss));
    const half = 0.5 / (CHART_POINTS - 1);
    expect(values[0]).toBe(within(0, half));
    expect(values.at(-1)).toBe(within(1 - half, 2));
    expect(resample(t, "heap")).toBeUndefined();
  });

  it("puts runs of different lengths on the same axis: % of each run's wall time", () => {
    const short = resample(timeline(2, 60 * MiB), "rss")!;
    const long = resample(timeline(7, 60 * MiB), "rss")!;
    for (const [i, v] of short.entries()) expect(long[i]).toBeCloseTo(v, -1);
    // The peak sits at 60 % of both runs: point 0.6 × 39 ≈ 23.
    expect(short.indexOf(Math.max(...short))).toBe(Math.round(0.6 * (CHART_POINTS - 1)));
  });

  it("interpolates where a sparse timeline has no sample", () => {
    const values = resample(
      [
        { t: 0, rss: 0 },
        { t: 10, rss: 100 },
      ],
      "rss",
      11,
    )!;
    expect(values.map(Math.round)).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
  });

  it("fits an axis to its data: at most 8 steps of 1, 2, 2.5 or 5 × 10ⁿ, ends next to the data", () => {
    // 242 MiB ended at 500 MiB with a 1-2-5 ceiling of the top: half the chart empty.
    expect(fitAxis(0, 242)).toEqual({ min: 0, max: 250, step: 50 });
    expect(fitAxis(0, 3.1)).toEqual({ min: 0, max: 3.5, step: 0.5 });
    expect(fitAxis(0, 79.8)).toEqual({ min: 0, max: 80, step: 10 });
    // Not from 0: a retained heap that grows by 12 MiB over 40 MiB fills the chart.
    expect(fitAxis(40.1, 52.3, false)).toEqual({ min: 40, max: 54, step: 2 });
    expect(fitAxis(5, 5, false)).toEqual({ min: 5, max: 5.01, step: 0.01 });
    for (const [lo, hi] of [
      [0, 0.7],
      [0, 1e9],
      [3, 1234.5],
      [0.001, 0.0013],
    ] as const) {
      const a = fitAxis(lo, hi, false);
      expect(a.min).toBeLessThanOrEqual(lo);
      expect(a.max).toBeGreaterThanOrEqual(hi);
      expect((a.max - a.min) / a.step).toBeLessThanOrEqual(8 + 1e-9);
    }
  });
});

describe("Mermaid xychart", () => {
  it("draws base and head on the same axes, and parses", async () => {
    const s = pullRequest(1).scenarios[0]!;
    const chart = mermaidChart(s)!;
    const lines = chart.block.split("\n");
    expect(lines[0]).toBe("```mermaid");
    expect(lines).toContain("xychart-beta");
    const series = lines.filter((l) => l.trimStart().startsWith("line "));
    expect(series).toHaveLength(4); // base RSS, head RSS, base heap, head heap
    for (const l of series) expect(l.split(",")).toHaveLength(CHART_POINTS);
    // Head RSS peaks at 80 MiB; the axis ends at a round figure above it.
    expect(series.map((l) => /line "([^"]+)"/.exec(l)?.[1])).toEqual([
      "base RSS",
      "head RSS",
      "base heap",
      "head heap",
    ]);
    const headRss = JSON.parse(series[1]!.replace(/^\s*line "[^"]*" /, "")) as number[];
    expect(Math.max(...headRss)).toBeCloseTo(80, 0);
    expect(chart.block).toContain('y-axis "MiB" 0 --> 80');
    // Each line named by its colour and, for readers who cannot tell the colours apart, by its
    // highest value and where it is reached.
    expect(chart.legend).toMatch(
      /^Lines: grey = base RSS \(highest 59\.9 MiB at 59 %\), orange = head RSS \(highest 79\.8 MiB at 59 %\), purple = base heap \(highest 29\.9 MiB at 59 %\), blue = head heap \(highest 39\.9 MiB at 59 %\); .*RSS and heap of one run/,
    );
    expect(await parseMermaid(chart.block)).toMatchObject({ diagramType: "xychart" });
  });

  it("draws the head alone when there is no base", async () => {
    const r = report([{ name: "solo", runs: [{ peakHeap: 70 * MiB }], budget: { peakHeap: 64 * MiB } }]);
    r.scenarios[0]!.timeline = timeline(1, 30 * MiB);
    const chart = mermaidChart(r.scenarios[0]!)!;
    expect(chart.block.split("\n").filter((l) => l.trimStart().startsWith("line "))).toHaveLength(1);
    expect(chart.legend).toMatch(/^Lines: orange = RSS \(highest \d+\.\d MiB at \d+ %\);/);
    expect(chart.legend).not.toContain("one run");
    expect(await parseMermaid(chart.block)).toMatchObject({ diagramType: "xychart" });
  });

  it("keeps hostile scenario names from breaking the chart", async () => {
    const evil = ['a"b', "x\n  line [1, 2]", "%%{init: {}}%%", "`\u0000`<script>", "名前 — ü", ""];
    for (const name of evil) {
      const title = chartTitle(name);
      expect(title).toMatch(/^[A-Za-z0-9 _.,:/+=-]+$/);
      const r = report([{ name, runs: [{ peakHeap: 2 * MiB }], budget: { peakHeap: MiB } }]);
      r.scenarios[0]!.timeline = timeline(1, 30 * MiB);
      expect(await parseMermaid(mermaidChart(r.scenarios[0]!)!.block)).toMatchObject({
        diagramType: "xychart",
      });
    }
  });

  it("draws every line at 3:1 contrast or better on GitHub's light and dark backgrounds", () => {
    // WCAG 2 relative luminance and contrast ratio.
    const luminance = (hex: string) => {
      const [r, g, b] = [1, 3, 5].map((i) => {
        const c = Number.parseInt(hex.slice(i, i + 2), 16) / 255;
        return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
      });
      return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
    };
    const contrast = (a: string, b: string) => {
      const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
      return (hi! + 0.05) / (lo! + 0.05);
    };
    expect(contrast("#000000", "#ffffff")).toBeCloseTo(21, 5);
    for (const { hex } of Object.values(COLOURS)) {
      expect(contrast(hex, "#ffffff")).toBeGreaterThanOrEqual(3);
      expect(contrast(hex, "#0d1117")).toBeGreaterThanOrEqual(3);
    }
    const words = Object.values(COLOURS).map((c) => c.word);
    expect(new Set(words).size).toBe(words.length);
  });

  // The legend names colours in declaration order; a real browser rendering shows that holds, in
  // Mermaid's default theme and in its dark theme (GitHub's dark mode). Runs where Debian's
  // `chromium` is installed (.ci/run installs it).
  const chromium = spawnSync("sh", ["-c", "command -v chromium"], { encoding: "utf8" }).stdout.trim();
  it.skipIf(!chromium)(
    "renders in a browser with the legend's colours, in the legend's order, light and dark",
    () => {
      const dir = mkdtempSync(join(tmpdir(), "membudget-mermaid-"));
      try {
        const mermaidJs = join(dirname(createRequire(import.meta.url).resolve("mermaid")), "mermaid.min.js");
        copyFileSync(mermaidJs, join(dir, "mermaid.min.js"));
        const chart = mermaidChart(pullRequest(1).scenarios[0]!)!;
        const source = chart.block.replace(/^```mermaid\n/, "").replace(/\n```$/, "");
        for (const theme of ["default", "dark"]) {
          const page = join(dir, `${theme}.html`);
          writeFileSync(
            page,
            `<!doctype html><pre class="mermaid">${source.replace(/&/g, "&amp;").replace(/</g, "&lt;")}</pre>` +
              `<script src="mermaid.min.js"></script><script>mermaid.initialize({startOnLoad: true, theme: "${theme}"});</script>`,
          );
          const r = spawnSync(
            chromium,
            ["--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=5000", "--dump-dom", page],
            { encoding: "utf8", timeout: 60_000 },
          );
          // Each line of an xychart is a <path> in a group "line-plot-N", N its declaration order.
          const strokes = Array.from(
            r.stdout.matchAll(/class="line-plot-(\d+)"><path d="[^"]*" fill="none" stroke="(#[0-9a-f]{6})"/g),
          )
            .sort((a, b) => Number(a[1]) - Number(b[1]))
            .map((m) => m[2]);
          expect(strokes).toEqual([
            COLOURS.baseRss.hex,
            COLOURS.headRss.hex,
            COLOURS.baseHeap.hex,
            COLOURS.headHeap.hex,
          ]);
        }
        expect(chart.legend).toMatch(
          /grey = base RSS .*, orange = head RSS .*, purple = base heap .*, blue = head heap /,
        );
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it("rejects a broken chart (the parser really checks)", async () => {
    await expect(parseMermaid('xychart-beta\n  title "a"b"\n  line [1, 2]')).rejects.toThrow(/Parse error/);
  });
});

describe("charts and sites in the comment and the job summary", () => {
  it("folds a failing scenario's chart under its row in the comment, open in the summary", async () => {
    const r = pullRequest(1);
    const comment = renderMarkdown(r);
    const row = comment.indexOf("| **scenario-0** |");
    const details = comment.indexOf("<details><summary>Memory over the run of scenario-0</summary>");
    expect(row).toBeGreaterThan(0);
    expect(details).toBeGreaterThan(row);
    const [block] = blocks(comment);
    expect(comment.indexOf(block!)).toBeGreaterThan(details);
    expect(await parseMermaid(block!)).toMatchObject({ diagramType: "xychart" });
    const summary = renderMarkdown(r, { limit: 1024 * 1024, open: true });
    expect(summary).toContain("<details open><summary>Memory over the run of scenario-0</summary>");
  });

  it("draws no chart for a passing scenario", () => {
    const r = report([{ name: "fine", runs: [{ peakHeap: MiB }], budget: { peakHeap: 2 * MiB } }]);
    r.scenarios[0]!.timeline = timeline(1, 30 * MiB);
    expect(renderMarkdown(r)).not.toContain("```mermaid");
  });

  it("keeps 100 scenarios with sites and charts within the comment limit, and says what it left out", async () => {
    const r = pullRequest(100, (i) => `scenario-${i}-${"x".repeat(60)}`);
    const comment = renderMarkdown(r, { header: "<!-- membudget -->" });
    expect(comment.length).toBeLessThanOrEqual(COMMENT_LIMIT);
    expect(comment).toMatch(/^<!-- membudget -->\n### 🔴 membudget: 100 of 100 scenarios over budget/);
    // Every row is still there; charts were dropped first.
    for (let i = 0; i < 100; i++) expect(comment).toContain(`**scenario-${i}-`);
    // Said with the limit itself, which the comment may be far below once they are out.
    expect(comment).toMatch(
      /The charts of \d+ scenarios.* are left out: with them it would be over the limit of 65,536 characters GitHub takes/,
    );
    // The worst scenarios keep their chart and sites, in the order of the table.
    expect(blocks(comment).length).toBeGreaterThan(0);
    expect(comment).toContain("<details><summary>Memory over the run of scenario-0-");
    expect(comment).toContain("<details><summary>Where the memory went in scenario-0-");
    for (const block of blocks(comment)) {
      expect(await parseMermaid(block)).toMatchObject({ diagramType: "xychart" });
    }
    // The job summary has room for all of them.
    const summary = renderMarkdown(r, { limit: 1024 * 1024 - 1024, open: true });
    expect(summary.length).toBeLessThanOrEqual(1024 * 1024 - 1024);
    expect(blocks(summary)).toHaveLength(100);
    expect(summary).not.toContain("are left out");
  });

  it("degrades to rows only, then fewer rows, when even sites do not fit", () => {
    const r = pullRequest(100, (i) => `scenario-${i}-${"y".repeat(60)}`);
    const tight = renderMarkdown(r, { limit: 10_000 });
    expect(tight.length).toBeLessThanOrEqual(10_000);
    expect(tight).not.toContain("```mermaid");
    expect(tight).not.toContain("Where the memory went");
    expect(tight).toMatch(/more scenarios need attention/);
  });
});
