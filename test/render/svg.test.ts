import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Report, ScenarioReport, TimelinePoint } from "../../src/model/report.js";
import { chartFiles, chartSlug, renderSvg, SVG_LAYOUT } from "../../src/render/svg.js";
import { writeReport, writeTextFile } from "../../src/report/io.js";
import { judge } from "../../src/verdict/judge.js";
import { MiB, report } from "../helpers/reports.js";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "membudget-svg-"));
  dirs.push(d);
  return d;
}

/** Well-formed XML, as a strict parser (Python's expat, through minidom) sees it. */
function assertWellFormed(file: string): void {
  const r = spawnSync(
    "python3",
    ["-c", "import xml.dom.minidom,sys; xml.dom.minidom.parse(sys.argv[1])", file],
    { encoding: "utf8" },
  );
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
}

function ramp(seconds: number, from: number, to: number, heap = false): TimelinePoint[] {
  return Array.from({ length: 120 }, (_, i) => {
    const t = (i / 119) * seconds;
    const rss = from + ((to - from) * i) / 119;
    return { t, rss, ...(heap ? { heap: rss / 3 } : {}) };
  });
}

/** The data a polyline draws, read back through the axes the SVG declares. */
function pointsOf(svg: string, series: string): { t: number; v: number }[] {
  const tMax = Number(/data-t-max="([^"]+)"/.exec(svg)?.[1]);
  const yMax = Number(/data-y-max="([^"]+)"/.exec(svg)?.[1]);
  const { width, height, left, right, top, bottom } = SVG_LAYOUT;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const points = new RegExp(`<polyline data-series="${series}" points="([^"]*)"`).exec(svg)?.[1];
  if (!points) return [];
  return points.split(" ").map((xy) => {
    const [x, y] = xy.split(",").map(Number) as [number, number];
    return { t: ((x - left) / plotW) * tMax, v: ((top + plotH - y) / plotH) * yMax };
  });
}

function expectPointsMatch(svg: string, series: string, timeline: TimelinePoint[], key: "rss" | "heap") {
  const tMax = Number(/data-t-max="([^"]+)"/.exec(svg)?.[1]);
  const yMax = Number(/data-y-max="([^"]+)"/.exec(svg)?.[1]);
  const drawn = pointsOf(svg, series);
  expect(drawn).toHaveLength(timeline.length);
  const { width, height, left, right, top, bottom } = SVG_LAYOUT;
  // Coordinates are rounded to 0.1 px: allow that much, in data units.
  const dt = (0.06 / (width - left - right)) * tMax;
  const dv = (0.06 / (height - top - bottom)) * yMax;
  for (const [i, p] of timeline.entries()) {
    expect(Math.abs(drawn[i]!.t - p.t)).toBeLessThanOrEqual(dt);
    expect(Math.abs(drawn[i]!.v - p[key]!)).toBeLessThanOrEqual(dv);
  }
}

function judged(name: string): { base: Report; head: Report; judged: Report } {
  const spec = [{ name, runs: [{ peakHeap: 70 * MiB }], budget: { peakHeap: 64 * MiB } }];
  const base = report(spec);
  base.scenarios[0]!.timeline = ramp(2, 10 * MiB, 40 * MiB, true);
  const head = report(spec);
  head.scenarios[0]!.timeline = ramp(3.3, 12 * MiB, 75 * MiB, true);
  return { base, head, judged: judge({ ...head, base: { source: "base.json" } }, { base }) };
}

describe("SVG chart of a scenario's memory over the run", () => {
  it("draws head and base RSS and heap, base dashed, points on the data", () => {
    const { judged: r } = judged("load-catalog");
    const s = r.scenarios[0]!;
    const svg = renderSvg(s)!;
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expectPointsMatch(svg, "head-rss", s.timeline!, "rss");
    expectPointsMatch(svg, "head-heap", s.timeline!, "heap");
    expectPointsMatch(svg, "base-rss", s.baseTimeline!, "rss");
    expectPointsMatch(svg, "base-heap", s.baseTimeline!, "heap");
    expect(svg).toMatch(/<polyline data-series="base-rss"[^>]*stroke-dasharray/);
    expect(svg).not.toMatch(/<polyline data-series="head-rss"[^>]*stroke-dasharray/);
    // Axes fitted to the data: 75 MiB ends at 80 MiB, 3.3 s at 3.5 s; labelled in MiB and seconds.
    expect(svg).toContain(`data-y-max="${80 * MiB}"`);
    expect(svg).toContain('data-t-max="3.5"');
    expect(svg).toContain(">MiB</text>");
    expect(svg).toContain(">seconds since the start of the run</text>");
    expect(svg).toContain(">load-catalog</text>");
    // The lines are one run's: the header says so rather than pass for the table's figure.
    expect(svg).toContain("peak RSS of the runs drawn: base 40.0 MiB, head 75.0 MiB");
    // Transparent, with text in the colours of the viewer's scheme.
    expect(svg).not.toContain("<rect");
    expect(svg).toContain("@media (prefers-color-scheme: dark)");
  });

  it("draws the head alone without a base, and nothing without a timeline", () => {
    const r = report([{ name: "solo", runs: [{ peakHeap: MiB }] }]);
    expect(renderSvg(r.scenarios[0]!)).toBeUndefined();
    const s: ScenarioReport = { ...r.scenarios[0]!, timeline: ramp(1, MiB, 2 * MiB) };
    const svg = renderSvg(s)!;
    expect(svg).toContain('data-series="head-rss"');
    expect(svg).not.toContain('data-series="base-');
    expect(svg).not.toContain('data-series="head-heap"');
    expect(svg).toContain(">RSS</text>");
  });

  it("is well-formed XML whatever the scenario is called", () => {
    const dir = tempDir();
    const names = ['<script>alert("x")</script> & co', "]]><!--", "tab\tand\u0001control", "名前 — ü"];
    const files = chartFiles(names.map((n) => judged(n).judged.scenarios[0]!));
    expect(files).toHaveLength(names.length);
    for (const f of files) {
      const path = join(dir, f.file);
      writeTextFile(path, f.svg);
      assertWellFormed(path);
      expect(f.svg).not.toContain("<script>");
    }
  });

  it("names files by a safe slug, unique per scenario", () => {
    expect(chartSlug("Load Catalog (200k rows)")).toBe("load-catalog-200k-rows");
    expect(chartSlug("../../etc/passwd")).toBe("etc-passwd");
    expect(chartSlug("...")).toBe("scenario");
    expect(chartSlug("ü")).toBe("u");
    const files = chartFiles(["a b", "a/b", "A B"].map((n) => judged(n).judged.scenarios[0]!));
    expect(files.map((f) => f.file)).toEqual(["a-b.svg", "a-b-2.svg", "a-b-3.svg"]);
  });
});

describe("membudget compare --chart DIR", () => {
  it("writes one SVG per scenario with a timeline, base and head on the same axes", () => {
    const dir = tempDir();
    const { base, head } = judged("load catalog");
    writeReport(join(dir, "base.json"), base);
    writeReport(join(dir, "head.json"), head);
    const charts = join(dir, "charts");
    const r = spawnSync(
      process.execPath,
      ["dist/cli.js", "compare", join(dir, "base.json"), join(dir, "head.json"), "--chart", charts],
      { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } },
    );
    expect(r.stderr).toContain(`membudget: 1 chart written to ${charts}`);
    expect(r.status).toBe(1); // over budget
    expect(readdirSync(charts)).toEqual(["load-catalog.svg"]);
    const file = join(charts, "load-catalog.svg");
    assertWellFormed(file);
    const svg = readFileSync(file, "utf8");
    expectPointsMatch(svg, "head-rss", head.scenarios[0]!.timeline!, "rss");
    expectPointsMatch(svg, "base-rss", base.scenarios[0]!.timeline!, "rss");
  });
});
