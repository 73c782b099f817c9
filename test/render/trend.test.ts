// The trend over the default branch, rendered: a sparkline line, and in full a row per commit whose
// links are only the report's own repository's runs.
import { describe, expect, it } from "vitest";
import type { Report } from "../../src/model/report.js";
import { escapeMarkdown } from "../../src/render/text.js";
import { sparkline, trendBlock } from "../../src/render/trend.js";
import { withTrend } from "../../src/verdict/trend.js";
import { report } from "../helpers/reports.js";

const MiB = 1024 * 1024;
const REPO = "https://github.com/o/r";

function judged(): Report {
  const base = report([{ name: "hold", runs: [{ peakHeap: 20 * MiB }] }]);
  return {
    ...report([{ name: "hold", runs: [{ peakHeap: 30 * MiB }], budget: { peakHeap: 40 * MiB } }], base),
    links: { repository: REPO },
  };
}

const stored = (values: number[], run: (i: number) => string) =>
  values.map((v, i) => ({
    report: report([{ name: "hold", runs: [{ peakHeap: v * MiB }] }]),
    commit: String(i + 1).padStart(40, "a"),
    run: run(i),
  }));

describe("the trend", () => {
  it("draws the scale from lowest to highest", () => {
    expect(sparkline([1, 2, 3, 4, 5, 6, 7, 8])).toBe("▁▂▃▄▅▆▇█");
    expect(sparkline([5, 5, 5])).toBe("▁▁▁");
  });

  it("is kept for the regressed metric only, oldest first, and rendered short or in full", () => {
    const head = judged();
    expect(head.scenarios[0]!.metrics.peakHeap!.status).toBe("regressed");
    // Given newest first, as GitHub lists runs.
    const withIt = withTrend(
      head,
      stored([22, 21, 20], (i) => `${REPO}/actions/runs/${10 - i}`),
      "main",
    );
    const trend = withIt.scenarios[0]!.trend!;
    expect(Object.keys(trend.metrics)).toEqual(["peakHeap"]);
    expect(trend.metrics.peakHeap!.map((p) => p.value / MiB)).toEqual([20, 21, 22]);
    const short = trendBlock(withIt, withIt.scenarios[0]!, false, escapeMarkdown)!;
    expect(short).toBe(
      "📈 hold, peak heap over the last 3 commits of main: `▁▂▂█` 20.0 MiB → 22.0 MiB (+10.0%); this pull request 30.0 MiB",
    );
    const full = trendBlock(withIt, withIt.scenarios[0]!, true, escapeMarkdown)!;
    expect(full).toContain(
      `| [\`${"3".padStart(40, "a").slice(0, 7)}\`](${REPO}/actions/runs/8) | 20.0 MiB |`,
    );
  });

  it("links no run of another repository (a forged report)", () => {
    const withIt = withTrend(
      judged(),
      stored([21, 20], () => "https://evil.example/phish"),
      "main",
    );
    const full = trendBlock(withIt, withIt.scenarios[0]!, true, escapeMarkdown)!;
    expect(full).not.toContain("evil");
    expect(full).toContain(`| \`${"2".padStart(40, "a").slice(0, 7)}\` | 20.0 MiB |`);
  });
});
