// Report → GitHub-flavoured markdown: the PR comment and the job summary.

import { COMMENT_LIMIT } from "../model/limits.js";
import type { Report, ScenarioReport } from "../model/report.js";
import { splitLocation } from "../model/sites.js";
import { showable } from "../model/text.js";
import { formatSize, plural } from "../model/units.js";
import { formatDelta, ICON } from "./format.js";
import { fullCommit, repositoryUrl, runUrl } from "./links.js";
import { loadBlock } from "./load.js";
import { mermaidChart } from "./mermaid.js";
import { markdownTests } from "./pytest.js";
import { headlineSites, needsAttention, sortScenarios } from "./select.js";
import { attentionTable, legend, otherFigures, table } from "./tables.js";
import { escapeMarkdown } from "./text.js";
import { trendBlock } from "./trend.js";

function capitalised(text: string): string {
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}`;
}

function limitText(options: MarkdownOptions): string {
  return (options.limit ?? COMMENT_LIMIT).toLocaleString("en-US");
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
  const origins = baseOriginLine(report);
  if (origins) out.push(origins, "");

  const scenarios = sortScenarios(report.scenarios);
  const attention = scenarios.filter(needsAttention);
  const rest = scenarios.filter((s) => !needsAttention(s));
  const hasBase = report.base !== undefined;
  // A pytest scenario's failing tests and its top ones by peak heap, under the scenario.
  const testsOf = (s: ScenarioReport) =>
    markdownTests(s, {
      open: options.open ?? false,
      compact: shape.sites === 0,
      link: (location) => siteUrl(report, location),
    });

  if (attention.length > 0) {
    const shown = attention.slice(0, shape.attentionCap);
    if (shown.length > 0) out.push(...attentionTable(shown, hasBase, escapeMarkdown), "", legend(shown), "");
    let sites = 0;
    let charts = 0;
    const left = { sites: 0, charts: 0 };
    // Each scenario's own blocks under it: details, its tests (pytest), sites, chart.
    for (const s of shown) {
      const details = scenarioDetails(s);
      if (details) out.push(details, "");
      const trend = trendBlock(report, s, options.open ?? false, escapeMarkdown);
      if (trend) out.push(trend, "");
      const others = otherFigures(s, hasBase, options.open ?? false, escapeMarkdown);
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
      // Said with the limit: the comment left is often far shorter than it, which reads as a contradiction.
      out.push(
        `${capitalised(what)} are left out: with them it would be over the limit of ${limitText(options)} characters GitHub takes; ${seeElsewhere(report)}.`,
        "",
      );
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
        ...table(rest, hasBase, escapeMarkdown),
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
      out.push(
        `${what} left out: with ${what.endsWith(" is") ? "it" : "them"} it would be over the limit of ${limitText(options)} characters GitHub takes; ${seeElsewhere(report)}.`,
        "",
      );
    }
  }
  for (const note of report.notes ?? []) {
    const text = escapeMarkdown(note);
    if (text) out.push(`> ${text}`, "");
  }
  out.push(
    `<sub>membudget ${escapeMarkdown(report.tool.version)} · ${escapeMarkdown(environmentLine(report))}</sub>`,
  );
  return `${out.join("\n")}\n`;
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

/**
 * Where the base figures came from, when the base was assembled scenario by scenario: the stored
 * report's run, and each scenario measured at the base instead, with why.
 */
function baseOriginLine(report: Report): string | undefined {
  const withOrigin = report.scenarios.filter((s) => s.baseOrigin);
  if (withOrigin.length === 0) return undefined;
  const stored = withOrigin.filter((s) => s.baseOrigin!.from === "report");
  const measured = withOrigin.filter((s) => s.baseOrigin!.from === "measured");
  if (stored.length === 0) return undefined;
  const parts: string[] = [];
  const run = runUrl({ ...report.links, run: stored[0]!.baseOrigin!.run ?? "" }, "run");
  const where = run ? `[the base's stored report](${run})` : "the base's stored report";
  parts.push(
    `Base figures from ${where} for ${stored.length === report.scenarios.length ? "every scenario" : plural(stored.length, "scenario")}`,
  );
  if (measured.length > 0) {
    const shown = measured.slice(0, 10).map((s) => {
      const why = s.baseOrigin!.why;
      return `${escapeMarkdown(s.name)}${why ? ` (${escapeMarkdown(why)})` : ""}`;
    });
    if (measured.length > shown.length) shown.push(`${measured.length - shown.length} more`);
    parts.push(`measured at the base: ${shown.join("; ")}`);
  }
  return `${parts.join("; ")}.`;
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
    lines.push(`${fence}text`, showable(tail, true), fence);
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
    // Sampled sites: ± one standard error; the library frame that made the blocks, as context.
    const via = site.context ? ` (via ${escapeMarkdown(site.context)})` : "";
    const cells = [
      url ? `[${text}](${url})${via}` : `${text}${via}`,
      site.function ? escapeMarkdown(site.function) : "—",
    ];
    const est = (bytes: number, error?: number) =>
      error ? `${formatSize(bytes)} ± ${formatSize(error)}` : formatSize(bytes);
    if (diff) {
      const baseBytes = site.baseBytes ?? 0;
      cells.push(
        est(site.bytes, site.error),
        baseBytes > 0 ? est(baseBytes, site.baseError) : "—",
        baseBytes > 0 ? (formatDelta((site.bytes - baseBytes) / baseBytes) ?? "—") : "new",
      );
    } else if (retained) {
      cells.push(site.perRequest !== undefined ? formatSize(site.perRequest) : "—", formatSize(site.bytes));
    } else {
      cells.push(est(site.bytes, site.error), site.count !== undefined ? String(site.count) : "—");
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
  const load = loadBlock(s, open);
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
