// A leaking load scenario as the reviewer sees it: the rounds table and chart, and the lines that
// kept memory per request, in the comment and in the terminal.
import { describe, expect, it } from "vitest";
import type { LoadRound, Report } from "../../src/model/report.js";
import { loadChart } from "../../src/render/load.js";
import { renderMarkdown } from "../../src/render/markdown.js";
import { renderTerminal } from "../../src/render/terminal.js";
import { judge } from "../../src/verdict/judge.js";
import { report } from "../helpers/reports.js";

const perRound: LoadRound[] = [1, 2, 3, 4, 5].map((round) => ({
  round,
  requests: round * 100,
  retained: 2 * 1024 * 1024 + round * 100 * 1065,
  errors: 0,
  seconds: 0.5,
}));

function leaking(): Report {
  const r = report([
    { name: "api <svc>", runs: [{ retainedPerRequest: 1065 }], budget: { retainedPerRequest: 64 } },
  ]);
  const s = r.scenarios[0]!;
  s.load = {
    driver: "http",
    requests: 500,
    concurrency: 4,
    rounds: 5,
    warmup: 2,
    perRound,
    run: 1,
    leak: true,
    floor: 16,
    why: "the retained heap grew in every round after warm-up, 1.0 KiB per request",
  };
  s.sites = {
    retained: [
      { location: "app/server.py:16", function: "Handler.do_GET", bytes: 319_500, perRequest: 1065 },
    ],
  };
  return judge({
    ...r,
    commit: "0123456789abcdef0123456789abcdef01234567",
    links: { repository: "https://github.com/o/r" },
  });
}

describe("a leaking load scenario", () => {
  it("shows its rounds, its chart and the line that keeps memory, linked at the head commit", () => {
    const md = renderMarkdown(leaking());
    expect(md).toContain("Rounds of api &lt;svc&gt;: the retained heap grew in every round after warm-up");
    expect(md).toContain("| 2 (warm-up) | 200 | 2.2 MiB | +104 KiB | 500 ms |");
    expect(md).toContain("| 5 | 500 | 2.5 MiB | +104 KiB | 500 ms |");
    expect(md).toContain("the lines that kept most per request after warm-up");
    expect(md).toContain(
      "| [app/server.py:16](https://github.com/o/r/blob/0123456789abcdef0123456789abcdef01234567/app/server.py#L16) | Handler.do\\_GET | 1.0 KiB | 312 KiB |",
    );
    const chart = loadChart(leaking().scenarios[0]!)!;
    expect(chart).toContain('x-axis "requests served" [100, 200, 300, 400, 500]');
    const values = chart
      .match(/line \[([^\]]+)\]/)![1]!
      .split(", ")
      .map(Number);
    expect(values).toEqual(perRound.map((r) => Number((r.retained! / 1024 / 1024).toFixed(2))));
  });

  it("lists the line per request under the scenario in the terminal", () => {
    const text = renderTerminal(leaking(), { colour: false });
    expect(text).toMatch(
      /sites that kept most per request after warm-up:\n\s+1\.0 KiB\/request\s+312 KiB\s+app\/server\.py:16\s+Handler\.do_GET/,
    );
  });
});
