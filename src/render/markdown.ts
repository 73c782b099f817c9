// Report → GitHub-flavoured markdown: the PR comment and the job summary.
import { METRICS } from "../report/metrics.js";
import type { Report, ScenarioReport, Status } from "../report/types.js";
import { formatDelta, formatValue, STATUS_WORD } from "./format.js";
import { needsAttention, type Row, rowsOf, sortScenarios } from "./select.js";

/** GitHub refuses issue comments longer than this. */
export const COMMENT_LIMIT = 65_536;

const ICON: Record<Status, string> = {
  pass: "✅",
  over: "🔴",
  regressed: "🟠",
  error: "💥",
  new: "🆕",
  removed: "➖",
  unbudgeted: "⚪",
};

/**
 * Text from users (scenario names, commands, workload output) must not open HTML, break the
 * table, start a link, or @-mention anyone.
 */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/\|/g, "&#124;")
    .replace(/([\\`*_[\]()#!~])/g, "\\$1")
    .replace(/@/g, "@&#8203;")
    .replace(/\r?\n/g, " ");
}

export interface MarkdownOptions {
  /** Hard limit on the result's length (the comment limit by default). */
  limit?: number;
  /** Text placed first (the sticky comment's hidden marker). */
  header?: string;
}

export function renderMarkdown(report: Report, options: MarkdownOptions = {}): string {
  const limit = options.limit ?? COMMENT_LIMIT;
  const attempts = [
    () => compose(report, options, { folded: true, attentionCap: Infinity }),
    () => compose(report, options, { folded: false, attentionCap: Infinity }),
    () => compose(report, options, { folded: false, attentionCap: 50 }),
    () => compose(report, options, { folded: false, attentionCap: 0 }),
  ];
  for (const attempt of attempts) {
    const text = attempt();
    if (text.length <= limit) return text;
  }
  return `${compose(report, options, { folded: false, attentionCap: 0 }).slice(0, limit - 40)}\n\n…(truncated)\n`;
}

function compose(
  report: Report,
  options: MarkdownOptions,
  shape: { folded: boolean; attentionCap: number },
): string {
  const out: string[] = [];
  if (options.header) out.push(options.header);
  out.push(`### ${ICON[report.status]} membudget: ${escapeMarkdown(report.summary)}`, "");
  const context = contextLine(report);
  if (context) out.push(context, "");

  const scenarios = sortScenarios(report.scenarios);
  const attention = scenarios.filter(needsAttention);
  const rest = scenarios.filter((s) => !needsAttention(s));
  const hasBase = report.base !== undefined;

  if (attention.length > 0) {
    const shown = attention.slice(0, shape.attentionCap);
    if (shown.length > 0) out.push(...table(shown, hasBase), "");
    for (const s of shown) {
      const details = scenarioDetails(s);
      if (details) out.push(details, "");
    }
    if (shown.length < attention.length) {
      out.push(
        `…and ${attention.length - shown.length} more ${attention.length - shown.length === 1 ? "scenario needs" : "scenarios need"} attention: ${seeElsewhere(report)}.`,
        "",
      );
    }
  }
  if (rest.length > 0) {
    if (shape.folded) {
      const label =
        attention.length > 0
          ? `${rest.length} other ${rest.length === 1 ? "scenario" : "scenarios"}`
          : `All ${rest.length} ${rest.length === 1 ? "scenario" : "scenarios"}`;
      out.push(`<details><summary>${label}</summary>`, "", ...table(rest, hasBase), "", "</details>", "");
    } else {
      out.push(
        `${rest.length} other ${rest.length === 1 ? "scenario" : "scenarios"} not shown: ${seeElsewhere(report)}.`,
        "",
      );
    }
  }
  for (const note of report.notes ?? []) out.push(`> ${escapeMarkdown(note)}`, "");
  out.push(
    `<sub>membudget ${escapeMarkdown(report.tool.version)} · ${escapeMarkdown(environmentLine(report))}</sub>`,
  );
  return `${out.join("\n")}\n`;
}

function seeElsewhere(report: Report): string {
  const summary = report.links?.summary ?? report.links?.run;
  return summary
    ? `see the [job summary](${summary}) and the report artifact`
    : "see the job summary and the report artifact";
}

function contextLine(report: Report): string | undefined {
  const parts: string[] = [];
  if (report.base?.commit && report.commit)
    parts.push(`base \`${short(report.base.commit)}\` → head \`${short(report.commit)}\``);
  else if (report.base) parts.push(`compared with ${escapeMarkdown(report.base.source)}`);
  else parts.push("no base to compare with");
  if (report.links?.summary) parts.push(`[job summary](${report.links.summary})`);
  if (report.links?.run && report.links.run !== report.links.summary)
    parts.push(`[run](${report.links.run})`);
  return parts.join(" · ");
}

function short(sha: string): string {
  return sha.slice(0, 7);
}

function environmentLine(report: Report): string {
  const env = report.environment;
  const runtimes = [`node ${env.node}`, env.python ? `python ${env.python}` : undefined]
    .filter(Boolean)
    .join(", ");
  return `${env.os}/${env.arch}, ${env.cpus} CPUs, ${runtimes}`;
}

function table(scenarios: ScenarioReport[], hasBase: boolean): string[] {
  const head = hasBase
    ? ["", "Scenario", "Metric", "Base", "Head", "Change", "Budget", "Status"]
    : ["", "Scenario", "Metric", "Value", "Budget", "Status"];
  const lines = [
    `| ${head.join(" | ")} |`,
    `|${head.map((_, i) => (i >= 3 && i < head.length - 1 ? "---:" : "---")).join("|")}|`,
  ];
  for (const s of scenarios) {
    for (const row of rowsOf(s)) lines.push(`| ${cells(row, hasBase).join(" | ")} |`);
  }
  return lines;
}

function cells(row: Row, hasBase: boolean): string[] {
  const { scenario: s, metric, summary } = row;
  const status =
    summary && s.status !== "error" && s.status !== "removed" && s.status !== "new"
      ? summary.status
      : s.status;
  const icon = ICON[status === "unbudgeted" ? "pass" : status];
  const name = `**${escapeMarkdown(s.name)}**`;
  if (!metric || !summary) {
    const why = s.reason ? escapeMarkdown(s.reason) : STATUS_WORD[s.status];
    return hasBase ? [icon, name, "—", "", "", "", "", why] : [icon, name, "—", "", "", why];
  }
  const unit = METRICS[metric].unit;
  const value =
    formatValue(unit, summary.value) +
    (summary.spread > 0.05 && summary.runs > 1 ? ` ±${Math.round((summary.spread * 100) / 2)}%` : "");
  const budget = summary.budget !== undefined ? formatValue(unit, summary.budget) : "—";
  const word = STATUS_WORD[status];
  if (!hasBase) return [icon, name, METRICS[metric].label, value, budget, word];
  const base = summary.base ? formatValue(unit, summary.base.value) : "—";
  const delta = formatDelta(summary.delta);
  const change = delta
    ? summary.status === "regressed" || summary.status === "over"
      ? `**${delta}**`
      : delta
    : "—";
  return [icon, name, METRICS[metric].label, base, value, change, budget, word];
}

/** Under a failing scenario: why, and the tail of its output (folded). */
function scenarioDetails(s: ScenarioReport): string | undefined {
  if (s.status !== "error") return undefined;
  const run = s.runs.find((r) => r.error);
  const tail = (run?.stderrTail || run?.stdoutTail || "").slice(-2000);
  const lines = [
    `<details><summary>${escapeMarkdown(s.name)}: ${escapeMarkdown(s.reason ?? "error")}</summary>`,
    "",
  ];
  if (tail) {
    // A fence longer than any run of backticks in the text keeps the text inside the block.
    const fence = "`".repeat(Math.max(3, ...Array.from(tail.matchAll(/`+/g), (m) => m[0].length + 1)));
    lines.push(`${fence}text`, tail.replace(/\r/g, ""), fence);
  }
  lines.push("", "</details>");
  return lines.join("\n");
}
