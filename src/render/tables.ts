// The comment's tables of scenarios: the main one (one row per scenario that needs attention, with
// the figure that decides it), what else moved under each, and the folded table of the others.
import { METRICS, type MetricKey, type Unit } from "../model/metrics.js";
import type { MetricSummary, ScenarioReport } from "../model/report.js";
import { type Status, shownStatus } from "../model/status.js";
import { formatValue } from "../model/units.js";
import { formatDelta, ICON, STATUS_WORD } from "./format.js";
import { type Row, rowsOf } from "./select.js";

/** The renderer's escape for text from users (markdown.ts's escapeMarkdown). */
type Escape = (text: string) => string;

/**
 * The main table: one row per scenario that needs attention, with the figure that decides its
 * status (the metric furthest over its budget or grown most; or its tests), base → head, change
 * and budget. No cell wraps at a comment's width: figures hold non-breaking spaces, the status is
 * the row's icon (the legend under the table says the words).
 */
export function attentionTable(scenarios: ScenarioReport[], hasBase: boolean, esc: Escape): string[] {
  const head = hasBase
    ? ["", "Scenario", "Decided by", "Base", "Head", "Change", "Budget"]
    : ["", "Scenario", "Decided by", "Value", "Budget"];
  const lines = [`| ${head.join(" | ")} |`, `|${head.map((_, i) => (i >= 3 ? "---:" : "---")).join("|")}|`];
  for (const s of scenarios) {
    const d = decidingFigure(s);
    const icon = ICON[shownStatus(s.status)];
    const name = `**${esc(s.name)}**`;
    if (!d.metric || !d.summary) {
      const blank = hasBase ? ["", "", "", ""] : ["", ""];
      lines.push(`| ${[icon, name, esc(d.text), ...blank].join(" | ")} |`);
      continue;
    }
    const unit = METRICS[d.metric].unit;
    const m = d.summary;
    const budget = m.budget !== undefined ? figure(unit, m.budget) : "—";
    const label = nb(METRICS[d.metric].label);
    if (!hasBase) {
      lines.push(`| ${[icon, name, label, figure(unit, m.value), budget].join(" | ")} |`);
      continue;
    }
    const delta = formatDelta(m.delta);
    const change = delta ? `**${delta}**` : "—";
    const base = m.base ? figure(unit, m.base.value) : "—";
    lines.push(`| ${[icon, name, label, base, figure(unit, m.value), change, budget].join(" | ")} |`);
  }
  return lines;
}

/** What the icons of the main table mean, only those it shows. */
export function legend(scenarios: ScenarioReport[]): string {
  const words: Partial<Record<Status, string>> = {
    error: "failed to run",
    over: "over budget",
    regressed: "grew more than its tolerance against the base",
  };
  const shown = new Set(scenarios.map((s) => shownStatus(s.status)));
  return `<sub>${(["error", "over", "regressed"] as const)
    .filter((st) => shown.has(st))
    .map((st) => `${ICON[st]} ${words[st]}`)
    .join(" · ")}</sub>`;
}

interface Deciding {
  metric?: MetricKey;
  summary?: MetricSummary;
  /** Without a metric: what decided ("2 tests over budget", "failed: exited with code 1"). */
  text: string;
}

/**
 * The figure that decides a scenario's status: of its metrics with that status, the one furthest
 * over its budget (over) or grown most (regressed); its tests when no metric has the status.
 */
export function decidingFigure(s: ScenarioReport): Deciding {
  if (s.status === "error") return { text: `failed: ${shorten(s.reason ?? "error", 60)}` };
  const candidates = (Object.entries(s.metrics) as [MetricKey, MetricSummary][]).filter(
    ([, m]) => m.status === s.status,
  );
  const score = ([, m]: [MetricKey, MetricSummary]) =>
    s.status === "over" && m.budget ? m.value / m.budget : (m.delta ?? 0);
  const best = candidates.sort((a, b) => score(b) - score(a))[0];
  if (best) return { metric: best[0], summary: best[1], text: METRICS[best[0]].label };
  const tests = testCount(s, s.status);
  if (tests) return { text: tests };
  return { text: s.reason ? shorten(s.reason, 60) : STATUS_WORD[s.status] };
}

/** "2 tests over budget", "1 test regressed"; undefined when no test has that status. */
function testCount(s: ScenarioReport, status: Status): string | undefined {
  const n = status === "over" ? s.testSummary?.over : status === "regressed" ? s.testSummary?.regressed : 0;
  if (!n) return undefined;
  return `${n} ${n === 1 ? "test" : "tests"} ${status === "over" ? "over budget" : "regressed"}`;
}

/**
 * Under a scenario of the main table: everything else about its figures on one folded line — the
 * other metrics over budget or regressed, its tests, and every other figure that moved (those
 * without a budget as information: they are never judged).
 */
export function otherFigures(
  s: ScenarioReport,
  hasBase: boolean,
  open: boolean,
  esc: Escape,
): string | undefined {
  const deciding = decidingFigure(s).metric;
  const rows = (Object.entries(s.metrics) as [MetricKey, MetricSummary][]).filter(
    ([key, m]) =>
      key !== deciding &&
      (m.budget !== undefined || (hasBase && m.delta !== undefined && Math.abs(m.delta) >= 0.005)),
  );
  const failing = rows.filter(([, m]) => m.status === "over" || m.status === "regressed");
  const parts: string[] = [];
  for (const st of ["over", "regressed"] as const) {
    const names = failing.filter(([, m]) => m.status === st).map(([key]) => METRICS[key].label);
    if (names.length > 0)
      parts.push(`also ${st === "over" ? "over budget" : "regressed"}: ${names.join(", ")}`);
  }
  for (const st of ["over", "regressed"] as const) {
    if (!deciding && st === s.status) continue; // the scenario's row says it
    const tests = testCount(s, st);
    if (tests) parts.push(tests);
  }
  const rest = rows.length - failing.length;
  if (rest > 0)
    parts.push(`${rest} other ${rest === 1 ? "figure" : "figures"}${hasBase ? " moved or budgeted" : ""}`);
  if (rows.length === 0) return parts.length > 0 ? `${esc(s.name)}: ${parts.join(" · ")}` : undefined;
  const order = (m: MetricSummary) =>
    m.status === "over" ? 0 : m.status === "regressed" ? 1 : m.budget !== undefined ? 2 : 3;
  rows.sort(([, a], [, b]) => order(a) - order(b) || Math.abs(b.delta ?? 0) - Math.abs(a.delta ?? 0));
  const head = hasBase
    ? ["", "Figure", "Base", "Head", "Change", "Budget"]
    : ["", "Figure", "Value", "Budget"];
  const lines = [
    `<details${open ? " open" : ""}><summary>${esc(s.name)}: ${parts.join(" · ")}</summary>`,
    "",
    `| ${head.join(" | ")} |`,
    `|${head.map((_, i) => (i >= 2 ? "---:" : "---")).join("|")}|`,
  ];
  for (const [key, m] of rows) {
    const unit = METRICS[key].unit;
    const icon = m.budget === undefined ? "⚪" : ICON[shownStatus(m.status)];
    const budget = m.budget !== undefined ? figure(unit, m.budget) : "not budgeted";
    const cells = hasBase
      ? [
          icon,
          nb(METRICS[key].label),
          m.base ? figure(unit, m.base.value) : "—",
          figure(unit, m.value),
          formatDelta(m.delta) ?? "—",
          nb(budget),
        ]
      : [icon, nb(METRICS[key].label), figure(unit, m.value), nb(budget)];
    lines.push(`| ${cells.join(" | ")} |`);
  }
  lines.push("", "</details>");
  return lines.join("\n");
}

/** Spaces that must not break a cell: "48.0 MiB" stays on one line however narrow the table. */
function nb(text: string): string {
  return text.replace(/ /g, "\u00a0");
}

function figure(unit: Unit, value: number): string {
  return nb(formatValue(unit, value));
}

export function table(scenarios: ScenarioReport[], hasBase: boolean, esc: Escape): string[] {
  const head = hasBase
    ? ["", "Scenario", "Metric", "Base", "Head", "Change", "Budget", "Status"]
    : ["", "Scenario", "Metric", "Value", "Budget", "Status"];
  const lines = [
    `| ${head.join(" | ")} |`,
    `|${head.map((_, i) => (i >= 3 && i < head.length - 1 ? "---:" : "---")).join("|")}|`,
  ];
  for (const s of scenarios) {
    for (const row of rowsOf(s)) lines.push(`| ${cells(row, hasBase, esc).join(" | ")} |`);
  }
  return lines;
}

function cells(row: Row, hasBase: boolean, esc: Escape): string[] {
  const { scenario: s, metric, summary } = row;
  const status =
    summary && s.status !== "error" && s.status !== "removed" && s.status !== "new"
      ? summary.status
      : s.status;
  const icon = ICON[shownStatus(status)];
  const name = `**${esc(s.name)}**`;
  if (metric && row.unavailable !== undefined) {
    const why = `unavailable: ${esc(shorten(row.unavailable, REASON_LIMIT))}`;
    const mark = s.status === "error" ? ICON.error : "➖";
    const label = METRICS[metric].label;
    return hasBase
      ? [mark, name, label, "—", "_unavailable_", "—", "—", why]
      : [mark, name, label, "_unavailable_", "—", why];
  }
  if (!metric || !summary) {
    const why = s.reason ? esc(s.reason) : STATUS_WORD[s.status];
    return hasBase ? [icon, name, "—", "", "", "", "", why] : [icon, name, "—", "", "", why];
  }
  const unit = METRICS[metric].unit;
  const value =
    figure(unit, summary.value) +
    (summary.spread > 0.05 && summary.runs > 1 ? `\u00a0±${Math.round((summary.spread * 100) / 2)}%` : "");
  const budget = summary.budget !== undefined ? figure(unit, summary.budget) : "—";
  const word = nb(STATUS_WORD[status]);
  const label = nb(METRICS[metric].label);
  if (!hasBase) return [icon, name, label, value, budget, word];
  const base = summary.base ? figure(unit, summary.base.value) : "—";
  const delta = formatDelta(summary.delta);
  const change = delta
    ? summary.status === "regressed" || summary.status === "over"
      ? `**${delta}**`
      : delta
    : "—";
  return [icon, name, label, base, value, change, budget, word];
}

/** A reason in a table cell is cut here (a compiler's error can run to pages); the report has it whole. */
const REASON_LIMIT = 200;

export function shorten(text: string, limit: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= limit ? flat : `${flat.slice(0, limit - 1)}…`;
}
