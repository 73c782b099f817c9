// A load scenario's rounds → markdown: the table of what the service retained after each round,
// and a Mermaid chart of retained heap against requests served (docs/load.md).

import { largest, smallest } from "../model/numbers.js";
import type { ScenarioReport } from "../model/report.js";
import { formatDuration, formatSize } from "../model/units.js";
import { COLOURS, chartTitle, fitAxis } from "./mermaid.js";
import { escapeMarkdown } from "./text.js";

const MiB = 1024 * 1024;

/** The mermaid chart of retained heap (MiB) against requests, or undefined without figures. */
export function loadChart(s: ScenarioReport): string | undefined {
  const rounds = (s.load?.perRound ?? []).filter((r) => r.retained !== undefined);
  if (rounds.length < 2) return undefined;
  const retained = rounds.map((r) => r.retained! / MiB);
  // Fitted to the figures, not from 0: a leak of a few hundred KiB on a heap of tens of MiB is a
  // line that climbs, not a flat one at the top of the chart.
  const axis = fitAxis(smallest(retained), largest(retained), false);
  const digits = axis.max - axis.min <= 10 ? 2 : 1;
  return [
    "```mermaid",
    // Transparent, and a blue with 3:1 contrast on both of GitHub's backgrounds (see COLOURS).
    `%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "${COLOURS.headHeap.hex}", "backgroundColor": "transparent"}}}}%%`,
    "xychart-beta",
    `  title "${chartTitle(s.name)}: retained heap after each round, MiB"`,
    `  x-axis "requests served" [${rounds.map((r) => String(r.requests)).join(", ")}]`,
    `  y-axis "MiB" ${axis.min} --> ${axis.max}`,
    `  line [${rounds.map((r) => String(Number((r.retained! / MiB).toFixed(digits)))).join(", ")}]`,
    "```",
  ].join("\n");
}

/** The rounds table and chart, folded (open in the job summary). */
export function loadBlock(s: ScenarioReport, open: boolean): string | undefined {
  const load = s.load;
  if (!load || load.perRound.length === 0) return undefined;
  const lines = [
    `<details${open ? " open" : ""}><summary>Rounds of ${escapeMarkdown(s.name)}: ${escapeMarkdown(load.why)}</summary>`,
    "",
    `${load.requests} requests in ${load.rounds} rounds${load.concurrency ? `, ${load.concurrency} at once` : ` (driven by the scenario's own command)`}; the first ${load.warmup} ${load.warmup === 1 ? "round is" : "rounds are"} warm-up. Run ${load.run}:`,
    "",
    "| Round | Requests | Retained | Change | Took |",
    "|---:|---:|---:|---:|---:|",
  ];
  let previous: number | undefined;
  for (const r of load.perRound) {
    const change =
      r.retained !== undefined && previous !== undefined
        ? `${r.retained >= previous ? "+" : ""}${formatSize(r.retained - previous)}`
        : "—";
    const mark = r.round <= load.warmup ? " (warm-up)" : "";
    lines.push(
      `| ${r.round}${mark} | ${r.requests} | ${r.retained !== undefined ? formatSize(r.retained) : "—"} | ${change} | ${formatDuration(r.seconds)} |`,
    );
    if (r.retained !== undefined) previous = r.retained;
  }
  const chart = loadChart(s);
  if (chart) lines.push("", chart);
  lines.push("", "</details>");
  return lines.join("\n");
}
