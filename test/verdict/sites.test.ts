import { describe, expect, it } from "vitest";
import type { Site } from "../../src/model/report.js";
import { splitLocation } from "../../src/model/sites.js";
import { headlineSites } from "../../src/render/select.js";
import { judge } from "../../src/verdict/judge.js";
import { SITE_DIFF_LIMIT, siteDiff } from "../../src/verdict/sites.js";
import { MiB, report } from "../helpers/reports.js";

const site = (location: string, fn: string, bytes: number): Site => ({ location, function: fn, bytes });

describe("site diff against the base", () => {
  const base = [
    site("catalog/load.py:40", "read_rows", 20 * MiB),
    site("catalog/index.py:12", "build_index", 8 * MiB),
    site("catalog/cache.py:88", "warm_cache", 6 * MiB),
  ];

  it("puts a site added at the head first, with a base of 0", () => {
    const head = [
      site("catalog/load.py:40", "read_rows", 21 * MiB),
      site("catalog/extra.py:5", "build_lookup", 50 * MiB),
      site("catalog/index.py:12", "build_index", 8 * MiB),
      site("catalog/cache.py:88", "warm_cache", 6 * MiB),
    ];
    const diff = siteDiff(head, base);
    expect(diff[0]).toMatchObject({ location: "catalog/extra.py:5", bytes: 50 * MiB, baseBytes: 0 });
    expect(diff[1]).toMatchObject({ location: "catalog/load.py:40", bytes: 21 * MiB, baseBytes: 20 * MiB });
    // Unchanged sites did not grow: not in the diff.
    expect(diff).toHaveLength(2);
  });

  it("leaves out a site that shrank, and one that is gone", () => {
    const head = [
      site("catalog/load.py:40", "read_rows", 10 * MiB),
      site("catalog/index.py:12", "build_index", 9 * MiB),
    ];
    const diff = siteDiff(head, base);
    expect(diff.map((s) => s.location)).toEqual(["catalog/index.py:12"]);
    expect(diff[0]?.baseBytes).toBe(8 * MiB);
  });

  it("matches a site whose lines an unrelated edit moved, by function and file", () => {
    const head = [
      site("catalog/load.py:47", "read_rows", 30 * MiB), // 7 lines inserted above it
      site("catalog/index.py:12", "build_index", 8 * MiB),
    ];
    const diff = siteDiff(head, base);
    expect(diff).toEqual([{ ...head[0], baseBytes: 20 * MiB }]);
  });

  it("pairs two moved sites of one function with their nearest lines, and not across files", () => {
    const b = [site("a.py:10", "f", 1 * MiB), site("a.py:50", "f", 5 * MiB), site("b.py:10", "g", 4 * MiB)];
    const h = [site("a.py:13", "f", 2 * MiB), site("a.py:53", "f", 6 * MiB), site("c.py:10", "g", 4 * MiB)];
    const diff = siteDiff(h, b);
    expect(diff.find((s) => s.location === "a.py:13")?.baseBytes).toBe(1 * MiB);
    expect(diff.find((s) => s.location === "a.py:53")?.baseBytes).toBe(5 * MiB);
    expect(diff.find((s) => s.location === "c.py:10")?.baseBytes).toBe(0);
  });

  it("is bounded, largest growth first", () => {
    const head = Array.from({ length: 30 }, (_, i) => site(`m.py:${i + 1}`, `f${i}`, (i + 1) * 1000));
    const diff = siteDiff(head, []);
    expect(diff).toHaveLength(SITE_DIFF_LIMIT);
    expect(diff.map((s) => s.bytes)).toEqual(
      Array.from({ length: SITE_DIFF_LIMIT }, (_, i) => (30 - i) * 1000),
    );
    expect(siteDiff(head, [], 3)).toHaveLength(3);
  });

  it("reads locations with and without a line", () => {
    expect(splitLocation("src/app.py:42")).toEqual({ file: "src/app.py", line: 42 });
    expect(splitLocation("C:/x/app.py:7")).toEqual({ file: "C:/x/app.py", line: 7 });
    expect(splitLocation("<frozen importlib>")).toEqual({ file: "<frozen importlib>" });
  });
});

describe("judging a head report against its base", () => {
  const spec = [{ name: "load", runs: [{ peakHeap: 60 * MiB }], budget: { peakHeap: 64 * MiB } }];
  const baseTimeline = [
    { t: 0, rss: 20 * MiB },
    { t: 1, rss: 40 * MiB },
  ];

  function pair() {
    const base = report(spec);
    base.scenarios[0]!.timeline = baseTimeline;
    base.scenarios[0]!.sites = { peak: [site("load.py:40", "read_rows", 40 * MiB)] };
    const head = report(spec);
    head.scenarios[0]!.timeline = [{ t: 0, rss: 25 * MiB, heap: 1 * MiB }];
    head.scenarios[0]!.sites = {
      peak: [site("load.py:44", "read_rows", 41 * MiB), site("load.py:90", "build_lookup", 19 * MiB)],
    };
    return { base, head };
  }

  it("copies the base's timeline into the head and computes the site diff", () => {
    const { base, head } = pair();
    const judged = judge({ ...head, base: { source: "base.json" } }, { base });
    const s = judged.scenarios[0]!;
    expect(s.baseTimeline).toEqual(baseTimeline);
    expect(s.sites?.diffOf).toBe("peak");
    expect(s.sites?.diff?.map((d) => [d.location, d.bytes, d.baseBytes])).toEqual([
      ["load.py:90", 19 * MiB, 0],
      ["load.py:44", 41 * MiB, 40 * MiB],
    ]);
    expect(headlineSites(s)?.kind).toBe("diff");
    // The report stays valid for its own schema's types: the head's own sites are kept.
    expect(s.sites?.peak).toHaveLength(2);
  });

  it("replaces what an earlier judgement left, and drops it without a base", () => {
    const { base, head } = pair();
    const once = judge({ ...head, base: { source: "base.json" } }, { base });
    const again = judge(once, { base });
    expect(again.scenarios[0]?.sites?.diff).toEqual(once.scenarios[0]?.sites?.diff);
    const alone = judge(once);
    expect(alone.scenarios[0]?.baseTimeline).toBeUndefined();
    expect(alone.scenarios[0]?.sites?.diff).toBeUndefined();
    expect(alone.scenarios[0]?.sites?.peak).toHaveLength(2);
    expect(headlineSites(alone.scenarios[0]!)?.kind).toBe("peak");
  });

  it("diffs the sites that allocated most when only those exist on both sides", () => {
    const { base, head } = pair();
    base.scenarios[0]!.sites = { allocated: [site("x.py:1", "f", 100)] };
    head.scenarios[0]!.sites = { allocated: [site("x.py:1", "f", 300)], peak: [site("y.py:1", "g", 5)] };
    const s = judge(head, { base }).scenarios[0]!;
    expect(s.sites?.diffOf).toBe("allocated");
    expect(s.sites?.diff).toEqual([{ ...site("x.py:1", "f", 300), baseBytes: 100 }]);
  });
});
