// Report → GitHub-flavoured markdown: the PR comment and the job summary.

import { COMMENT_LIMIT } from "../model/limits.js";
import { METRICS, type MetricKey, type Unit } from "../model/metrics.js";
import type { MetricSummary, Report, ScenarioReport } from "../model/report.js";
import { splitLocation } from "../model/sites.js";
import { type Status, shownStatus } from "../model/status.js";
import { formatSize, formatValue } from "../model/units.js";
import { mermaidChart } from "./chart.js";
import { formatDelta, STATUS_WORD } from "./format.js";
import { fullCommit, repositoryUrl, runUrl } from "./links.js";
import { loadBlock } from "./load.js";
import { headlineSites, needsAttention, type Row, rowsOf, sortScenarios } from "./select.js";
import { markdownTests } from "./tests.js";

/** GitHub refuses issue comments longer than this. */

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
 * Text from users (scenario names, commands, workload output, and every string of a report that
 * `comment: from-report` posts) must not open HTML, break the table, start a link, reference an
 * issue or @-mention anyone.
 */
export function escapeMarkdown(text: string): string {
  // Backslashes first: the entities added after (&#124;, &#8203;) hold a `#` that must stay as it is.
  return (
    text
      .replace(/([\\`*_[\]()#!~])/g, "\\$1")
      .replace(/&/g, "&amp;")
      .replace(/</g, "&lt;")
      .replace(/>/g, "&gt;")
      .replace(/\|/g, "&#124;")
      .replace(/@/g, "@&#8203;")
      // GitHub links `#123` and bare URLs in the rendered text, after escapes are gone: a zero-width
      // space keeps them text.
      .replace(/\\#(?=\d)/g, "#&#8203;")
      .replace(/:\/\//g, ":&#8203;//")
      .replace(/\bwww\./gi, (m) => `${m.slice(0, 3)}&#8203;.`)
      .replace(/\r?\n/g, " ")
  );
}

export interface MarkdownOptions {
  /** Hard limit on the result's length (the comment limit by default). */
  limit?: number;
  /** Text placed first (the sticky comment's hidden marker). */
  header?: string;
  /** Show sites and charts unfolded (the job summary, which has room); folded in a comment. */
  open?: boolean;
}

/** How much a composition holds; the degrade ladder shrinks it step by step until the text fits. */
interface Shape {
  folded: boolean;
  attentionCap: number;
  /** How many scenarios (worst first) get their chart, and their sites table. */
  charts: number;
  sites: number;
}

export function renderMarkdown(report: Report, options: MarkdownOptions = {}): string {
  const limit = options.limit ?? COMMENT_LIMIT;
  const attachments = new Attachments(report, options.open ?? false);
  const full: Shape = { folded: true, attentionCap: Infinity, charts: Infinity, sites: Infinity };
  // Charts go first (the largest, and the job summary keeps them), then sites, then rows; while
  // sites are cut, the worst few scenarios keep their chart if it fits.
  const shapes: Shape[] = [
    full,
    { ...full, charts: 20 },
    { ...full, charts: 5 },
    { ...full, charts: 0 },
    { ...full, charts: 5, sites: 20 },
    { ...full, charts: 0, sites: 20 },
    { ...full, charts: 0, sites: 5 },
    { ...full, charts: 0, sites: 0 },
    { folded: false, attentionCap: Infinity, charts: 0, sites: 0 },
    { folded: false, attentionCap: 50, charts: 0, sites: 0 },
    { folded: false, attentionCap: 0, charts: 0, sites: 0 },
  ];
  for (const shape of shapes) {
    const text = compose(report, options, shape, attachments);
    if (text.length <= limit) return text;
  }
  return `${compose(report, options, shapes.at(-1)!, attachments).slice(0, limit - 40)}\n\n…(truncated)\n`;
}

/** Each scenario's sites table and chart, rendered once however many shapes are tried. */
class Attachments {
  private readonly sites = new Map<ScenarioReport, string | undefined>();
  private readonly charts = new Map<ScenarioReport, string | undefined>();
  constructor(
    private readonly report: Report,
    private readonly open: boolean,
  ) {}
  sitesOf(s: ScenarioReport): string | undefined {
    if (!this.sites.has(s)) this.sites.set(s, sitesBlock(this.report, s, this.open));
    return this.sites.get(s);
  }
  chartOf(s: ScenarioReport): string | undefined {
    if (!this.charts.has(s)) this.charts.set(s, chartBlock(s, this.open));
    return this.charts.get(s);
  }
}

function compose(report: Report, options: MarkdownOptions, shape: Shape, attachments: Attachments): string {
  const out: string[] = [];
  if (options.header) out.push(options.header);
  out.push(`### ${ICON[report.status]} membudget: ${escapeMarkdown(report.summary)}`, "");
  const context = contextLine(report);
  if (context) out.push(context, "");

  const scenarios = sortScenarios(report.scenarios);
  const attention = scenarios.filter(needsAttention);
  const rest = scenarios.filter((s) => !needsAttention(s));
  const hasBase = report.base !== undefined;
  // A pytest scenario's failing tests and its top ones by peak heap, under the scenario.
  const testsOf = (s: ScenarioReport) =>
    markdownTests(s, escapeMarkdown, ICON, { open: options.open ?? false, compact: shape.sites === 0 });

  if (attention.length > 0) {
    const shown = attention.slice(0, shape.attentionCap);
    if (shown.length > 0) out.push(...attentionTable(shown, hasBase), "", legend(shown), "");
    let sites = 0;
    let charts = 0;
    const left = { sites: 0, charts: 0 };
    // Each scenario's own blocks under it: details, its tests (pytest), sites, chart.
    for (const s of shown) {
      const details = scenarioDetails(s);
      if (details) out.push(details, "");
      const others = otherFigures(s, hasBase, options.open ?? false);
      if (others) out.push(others, "");
      const tests = testsOf(s);
      if (tests) out.push(tests, "");
      const siteTable = attachments.sitesOf(s);
      if (siteTable && sites++ < shape.sites) out.push(siteTable, "");
      else if (siteTable) left.sites++;
      const chart = attachments.chartOf(s);
      if (chart && charts++ < shape.charts) out.push(chart, "");
      else if (chart) left.charts++;
    }
    if (left.sites + left.charts > 0) {
      const what = [
        left.charts > 0 ? `the charts of ${plural(left.charts, "scenario")}` : "",
        left.sites > 0 ? `the sites of ${plural(left.sites, "scenario")}` : "",
      ]
        .filter(Boolean)
        .join(" and ");
      out.push(`To fit GitHub's size limit, ${what} are left out: ${seeElsewhere(report)}.`, "");
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
      // A passing pytest scenario's top tests by peak heap fold with its row.
      const tests = rest.flatMap((s) => {
        const block = testsOf(s);
        return block ? [block, ""] : [];
      });
      out.push(
        `<details><summary>${label}</summary>`,
        "",
        ...table(rest, hasBase),
        "",
        ...tests,
        "</details>",
        "",
      );
    } else {
      const count = rest.length.toLocaleString("en-US");
      const what =
        attention.length > 0
          ? `${count} other ${rest.length === 1 ? "scenario is" : "scenarios are"}`
          : `The table of ${rest.length === 1 ? "the one scenario" : `all ${count} scenarios`} is`;
      out.push(`${what} left out to fit GitHub's size limit: ${seeElsewhere(report)}.`, "");
    }
  }
  for (const note of report.notes ?? []) out.push(`> ${escapeMarkdown(note)}`, "");
  out.push(
    `<sub>membudget ${escapeMarkdown(report.tool.version)} · ${escapeMarkdown(environmentLine(report))}</sub>`,
  );
  return `${out.join("\n")}\n`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function seeElsewhere(report: Report): string {
  const summary = runUrl(report.links, "summary") ?? runUrl(report.links, "run");
  return summary
    ? `see the [job summary](${summary}) and the report artifact`
    : "see the job summary and the report artifact";
}

function contextLine(report: Report): string | undefined {
  const parts: string[] = [];
  // Only full commit ids become code spans; a report's other strings are text (see links.ts).
  const baseCommit = fullCommit(report.base?.commit);
  const headCommit = fullCommit(report.commit);
  if (baseCommit && headCommit) parts.push(`base \`${short(baseCommit)}\` → head \`${short(headCommit)}\``);
  else if (report.base) parts.push(`compared with ${escapeMarkdown(report.base.source)}`);
  else parts.push("no base to compare with");
  const summary = runUrl(report.links, "summary");
  const run = runUrl(report.links, "run");
  if (summary) parts.push(`[job summary](${summary})`);
  if (run && run !== summary) parts.push(`[run](${run})`);
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

/**
 * The main table: one row per scenario that needs attention, with the figure that decides its
 * status (the metric furthest over its budget or grown most; or its tests), base → head, change
 * and budget. No cell wraps at a comment's width: figures hold non-breaking spaces, the status is
 * the row's icon (the legend under the table says the words).
 */
function attentionTable(scenarios: ScenarioReport[], hasBase: boolean): string[] {
  const head = hasBase
    ? ["", "Scenario", "Decided by", "Base", "Head", "Change", "Budget"]
    : ["", "Scenario", "Decided by", "Value", "Budget"];
  const lines = [`| ${head.join(" | ")} |`, `|${head.map((_, i) => (i >= 3 ? "---:" : "---")).join("|")}|`];
  for (const s of scenarios) {
    const d = decidingFigure(s);
    const icon = ICON[shownStatus(s.status)];
    const name = `**${escapeMarkdown(s.name)}**`;
    if (!d.metric || !d.summary) {
      const blank = hasBase ? ["", "", "", ""] : ["", ""];
      lines.push(`| ${[icon, name, escapeMarkdown(d.text), ...blank].join(" | ")} |`);
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
function legend(scenarios: ScenarioReport[]): string {
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
function otherFigures(s: ScenarioReport, hasBase: boolean, open: boolean): string | undefined {
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
  if (rows.length === 0)
    return parts.length > 0 ? `${escapeMarkdown(s.name)}: ${parts.join(" · ")}` : undefined;
  const order = (m: MetricSummary) =>
    m.status === "over" ? 0 : m.status === "regressed" ? 1 : m.budget !== undefined ? 2 : 3;
  rows.sort(([, a], [, b]) => order(a) - order(b) || Math.abs(b.delta ?? 0) - Math.abs(a.delta ?? 0));
  const head = hasBase
    ? ["", "Figure", "Base", "Head", "Change", "Budget"]
    : ["", "Figure", "Value", "Budget"];
  const lines = [
    `<details${open ? " open" : ""}><summary>${escapeMarkdown(s.name)}: ${parts.join(" · ")}</summary>`,
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
  const icon = ICON[shownStatus(status)];
  const name = `**${escapeMarkdown(s.name)}**`;
  if (metric && row.unavailable !== undefined) {
    const why = `unavailable: ${escapeMarkdown(shorten(row.unavailable, REASON_LIMIT))}`;
    const mark = s.status === "error" ? ICON.error : "➖";
    const label = METRICS[metric].label;
    return hasBase
      ? [mark, name, label, "—", "_unavailable_", "—", "—", why]
      : [mark, name, label, "_unavailable_", "—", why];
  }
  if (!metric || !summary) {
    const why = s.reason ? escapeMarkdown(s.reason) : STATUS_WORD[s.status];
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

function shorten(text: string, limit: number): string {
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= limit ? flat : `${flat.slice(0, limit - 1)}…`;
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

/** Under a failing or regressed scenario: where its memory went, as a folded table of sites. */
function sitesBlock(report: Report, s: ScenarioReport, open: boolean): string | undefined {
  const shown = headlineSites(s);
  if (!shown) return undefined;
  const name = escapeMarkdown(s.name);
  const what =
    shown.kind === "diff"
      ? `the sites that grew most against the base (${shown.of === "allocated" ? "bytes allocated" : "held at the peak"})`
      : shown.kind === "peak"
        ? `the sites holding most at the peak${s.sites?.diff ? " (none grew against the base)" : ""}`
        : shown.kind === "retained"
          ? "the lines that kept most per request after warm-up"
          : "the sites that allocated most";
  const diff = shown.kind === "diff";
  const retained = shown.kind === "retained";
  const head = diff
    ? ["Site", "Function", "Head", "Base", "Change"]
    : retained
      ? ["Site", "Function", "Per request", "Kept after warm-up"]
      : ["Site", "Function", "Bytes", "Count"];
  const lines = [
    `<details${open ? " open" : ""}><summary>Where the memory went in ${name}: ${what}</summary>`,
    "",
    `| ${head.join(" | ")} |`,
    `|${head.map((_, i) => (i >= 2 ? "---:" : "---")).join("|")}|`,
  ];
  for (const site of shown.sites) {
    const text = escapeMarkdown(site.location);
    const url = siteUrl(report, site.location);
    const cells = [url ? `[${text}](${url})` : text, site.function ? escapeMarkdown(site.function) : "—"];
    if (diff) {
      const baseBytes = site.baseBytes ?? 0;
      cells.push(
        formatSize(site.bytes),
        baseBytes > 0 ? formatSize(baseBytes) : "—",
        baseBytes > 0 ? (formatDelta((site.bytes - baseBytes) / baseBytes) ?? "—") : "new",
      );
    } else if (retained) {
      cells.push(site.perRequest !== undefined ? formatSize(site.perRequest) : "—", formatSize(site.bytes));
    } else {
      cells.push(formatSize(site.bytes), site.count !== undefined ? String(site.count) : "—");
    }
    lines.push(`| ${cells.join(" | ")} |`);
  }
  lines.push("", "</details>");
  return lines.join("\n");
}

/**
 * The file and line on GitHub at the measured commit, when the report says where the repository is
 * and the location is a plain path inside it (the report may come from an untrusted fork job, so
 * nothing but an http(s) repository, a hex commit and a relative path makes a link).
 */
export function siteUrl(report: Report, location: string): string | undefined {
  const repository = repositoryUrl(report.links);
  const commit = fullCommit(report.commit);
  if (!repository || !commit) return undefined;
  const { file, line } = splitLocation(location);
  const segments = file.split("/");
  if (
    file.length === 0 ||
    file.startsWith("<") ||
    /^[a-z][a-z0-9+.-]*:/i.test(file) ||
    segments.some((p) => p === "" || p === "." || p === "..")
  )
    return undefined;
  const path = segments
    .map((p) =>
      encodeURIComponent(p).replace(/[()'!*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
    )
    .join("/");
  return `${repository}/blob/${commit}/${path}${line !== undefined ? `#L${line}` : ""}`;
}

/** Under a failing or regressed scenario: its memory over the run, base and head on the same axes. */
function chartBlock(s: ScenarioReport, open: boolean): string | undefined {
  const load = loadBlock(s, open, escapeMarkdown);
  const chart = mermaidChart(s);
  if (!chart) return load;
  if (load) return `${load}\n\n${timelineBlock(s, chart, open)}`;
  return timelineBlock(s, chart, open);
}

function timelineBlock(
  s: ScenarioReport,
  chart: NonNullable<ReturnType<typeof mermaidChart>>,
  open: boolean,
): string {
  return [
    `<details${open ? " open" : ""}><summary>Memory over the run of ${escapeMarkdown(s.name)}</summary>`,
    "",
    chart.block,
    "",
    chart.legend,
    "",
    "</details>",
  ].join("\n");
}
