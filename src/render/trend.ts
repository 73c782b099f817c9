// A regressed or failing scenario's trend over the default branch, in markdown: one sparkline line
// per metric in the comment, and with every commit's figure in the job summary.
import { METRICS, type MetricKey } from "../model/metrics.js";
import type { Report, ScenarioReport, TrendPoint } from "../model/report.js";
import { formatValue } from "../model/units.js";
import { formatDelta } from "./format.js";
import { fullCommit, runUrl } from "./links.js";

const BARS = "▁▂▃▄▅▆▇█";

/** Unicode bars from the lowest to the highest of `values` (the head's value included in the scale). */
export function sparkline(values: readonly number[]): string {
  const low = Math.min(...values);
  const high = Math.max(...values);
  return values
    .map((v) => BARS[high === low ? 0 : Math.round(((v - low) / (high - low)) * (BARS.length - 1))])
    .join("");
}

/**
 * The scenario's trend block, or undefined when it has none. `full`: a table of every commit's
 * figure follows the line (the job summary); otherwise the line alone (the comment).
 */
export function trendBlock(
  report: Report,
  s: ScenarioReport,
  full: boolean,
  text: (raw: string) => string,
): string | undefined {
  if (!s.trend) return undefined;
  const out: string[] = [];
  for (const [key, points] of Object.entries(s.trend.metrics) as [MetricKey, TrendPoint[]][]) {
    const head = s.metrics[key]?.value;
    if (points.length === 0) continue;
    const { unit, label } = METRICS[key];
    const first = points[0]!.value;
    const last = points.at(-1)!.value;
    const values = head === undefined ? points.map((p) => p.value) : [...points.map((p) => p.value), head];
    const creep = first > 0 ? formatDelta((last - first) / first) : undefined;
    out.push(
      `📈 ${text(s.name)}, ${label} over the last ${points.length === 1 ? "commit" : `${points.length} commits`} of ${text(s.trend.branch)}: ` +
        `\`${sparkline(values)}\` ${formatValue(unit, first)} → ${formatValue(unit, last)}${creep ? ` (${creep})` : ""}` +
        (head !== undefined ? `; this pull request ${formatValue(unit, head)}` : ""),
    );
    if (!full) continue;
    const rows = points.map((p) => {
      const sha = fullCommit(p.commit);
      const run = p.run ? runUrl({ ...report.links, run: p.run }, "run") : undefined;
      const commit = sha ? `\`${sha.slice(0, 7)}\`` : "—";
      return `| ${run ? `[${commit}](${run})` : commit} | ${formatValue(unit, p.value)} |`;
    });
    out.push(
      "",
      `<details><summary>${text(s.name)}: ${label} at each commit</summary>`,
      "",
      `| Commit (oldest first) | ${label} |`,
      "|---|---|",
      ...rows,
      "",
      "</details>",
    );
  }
  return out.length > 0 ? out.join("\n") : undefined;
}
