// A scenario's tests (pytest) for the renderers: which rows need attention, the top tests by peak
// heap, and their lines for the terminal and the markdown.
import { METRICS } from "../model/metrics.js";
import { type TestMetricKey, type TestReport, testWarnings } from "../model/pytest.js";
import type { MetricSummary, ScenarioReport } from "../model/report.js";
import { NEEDS_ATTENTION, type Status } from "../model/status.js";
import { formatValue, plural } from "../model/units.js";
import { formatDelta, ICON, STATUS_WORD } from "./format.js";
import { escapeMarkdown, plain } from "./text.js";

/** Tests listed by peak heap under each scenario. */
export const TOP_SHOWN = 5;
/** Failing rows shown unfolded in markdown; more are folded. */
const UNFOLDED = 10;

export interface TestRow {
  id: string;
  metric?: TestMetricKey;
  summary?: MetricSummary;
  status: Status;
  reason?: string;
}

/** One row per failing metric of each failing or regressed test, then new and removed tests. */
export function failingTestRows(s: ScenarioReport): TestRow[] {
  const rows: TestRow[] = [];
  for (const t of s.tests ?? []) {
    if (!NEEDS_ATTENTION.has(t.status)) continue;
    const bad = (Object.entries(t.metrics) as [TestMetricKey, MetricSummary][]).filter(([, m]) =>
      NEEDS_ATTENTION.has(m.status),
    );
    if (bad.length === 0)
      rows.push({ id: t.id, status: t.status, ...(t.reason ? { reason: t.reason } : {}) });
    for (const [metric, summary] of bad) rows.push({ id: t.id, metric, summary, status: summary.status });
  }
  return rows;
}

export function topTests(s: ScenarioReport, n = TOP_SHOWN): TestReport[] {
  return (s.tests ?? [])
    .filter((t) => t.metrics.peakHeap !== undefined && t.status !== "removed")
    .sort((a, b) => b.metrics.peakHeap!.value - a.metrics.peakHeap!.value)
    .slice(0, n);
}

/** "6 tests: 1 over budget, 2 new" */
export function testsLine(s: ScenarioReport): string | undefined {
  const sum = s.testSummary;
  if (!sum) return undefined;
  const parts = [
    sum.over ? `${sum.over} over budget` : "",
    sum.regressed ? `${sum.regressed} regressed` : "",
    sum.new ? `${sum.new} new` : "",
    sum.removed ? `${sum.removed} removed` : "",
  ].filter(Boolean);
  const head = plural(sum.total, "test");
  return parts.length > 0 ? `${head}: ${parts.join(", ")}` : head;
}

function cellsOf(r: TestRow): { metric: string; base: string; head: string; change: string; budget: string } {
  if (!r.metric || !r.summary) return { metric: "—", base: "", head: "", change: "", budget: r.reason ?? "" };
  const unit = METRICS[r.metric].unit;
  const m = r.summary;
  return {
    metric: METRICS[r.metric].label,
    base: m.base ? formatValue(unit, m.base.value) : "—",
    head: formatValue(unit, m.value),
    change: formatDelta(m.delta) ?? "—",
    budget: m.budget !== undefined ? formatValue(unit, m.budget) : "—",
  };
}

/** Lines under a scenario in the terminal table: failing tests, the top 5 by peak heap, warnings. */
export function terminalTestLines(s: ScenarioReport): string[] {
  const line = testsLine(s);
  if (!line) return [];
  const out = [
    `  ${line}${s.testSummary?.heapUnavailable ? ` (peak heap per test unavailable: ${s.testSummary.heapUnavailable})` : ""}`,
  ];
  const rows = failingTestRows(s).map((r) => {
    const c = cellsOf(r);
    return [plain(r.id), c.metric, c.base, c.head, c.change, c.budget, STATUS_WORD[r.status]];
  });
  const top = topTests(s).map((t) => {
    const m = t.metrics.peakHeap!;
    return [
      plain(t.id),
      formatValue("bytes", m.value),
      m.budget !== undefined ? formatValue("bytes", m.budget) : "—",
    ];
  });
  out.push(...grid(["test", "metric", "base", "head", "change", "budget", "status"], rows, "    "));
  for (const t of testsWithSites(s)) {
    out.push(`  ${plain(t.id)}: sites held at its peak:`);
    for (const site of t.sites!.slice(0, TEST_SITES))
      out.push(
        `    ${estimate(site.bytes, site.error)}  ${plain(site.location)}${site.function ? `  ${plain(site.function)}` : ""}${site.context ? `  via ${plain(site.context)}` : ""}`,
      );
  }
  if (top.length > 0) {
    out.push(`  top ${top.length} by peak heap:`);
    out.push(...grid(["test", "peak heap", "budget"], top, "    "));
  }
  for (const w of s.testSummary ? testWarnings(s.testSummary) : []) out.push(`  warning: ${plain(w)}`);
  return out;
}

function grid(header: string[], rows: string[][], indent: string): string[] {
  if (rows.length === 0) return [];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => [...(r[i] ?? "")].length)));
  const fmt = (cells: string[]) =>
    indent +
    cells
      .map((c, i) => (i > 0 && i < cells.length - 1 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  return [fmt(header), ...rows.map(fmt)];
}

/** How many failing tests show where their memory went, and how many sites each. */
const TEST_SITE_TESTS = 5;
const TEST_SITES = 5;

/** Failing tests that carry sites (those live at the test's peak beyond what was live when it began). */
function testsWithSites(s: ScenarioReport): TestReport[] {
  return (s.tests ?? [])
    .filter((t) => NEEDS_ATTENTION.has(t.status) && t.sites && t.sites.length > 0)
    .slice(0, TEST_SITE_TESTS);
}

function estimate(bytes: number, error?: number): string {
  return error
    ? `${formatValue("bytes", bytes)} ± ${formatValue("bytes", error)}`
    : formatValue("bytes", bytes);
}

/** Under a pytest scenario: where each failing test's memory went, at its own peak. */
function markdownTestSites(
  s: ScenarioReport,
  options: { open: boolean; link?: (location: string) => string | undefined },
): string[] {
  const out: string[] = [];
  for (const t of testsWithSites(s)) {
    out.push(
      `<details${options.open ? " open" : ""}><summary>Where the memory went in ${escapeMarkdown(t.id)}: the sites held at its peak, beyond what was live when it began</summary>`,
      "",
      "| Site | Function | Bytes |",
      "|---|---|---:|",
      ...t.sites!.slice(0, TEST_SITES).map((site) => {
        const url = options.link?.(site.location);
        const text = escapeMarkdown(site.location);
        const via = site.context ? ` (via ${escapeMarkdown(site.context)})` : "";
        return `| ${url ? `[${text}](${url})` : text}${via} | ${site.function ? escapeMarkdown(site.function) : "—"} | ${estimate(site.bytes, site.error)} |`;
      }),
      "",
      "</details>",
      "",
    );
  }
  return out;
}

/**
 * The folder every listed test's node id starts with ("examples/python/pytest/tests/"), said once
 * above the tables so that each row names only its file and test: a full node id would not fit a
 * comment's width beside five figures.
 */
export function commonFolder(ids: readonly string[]): string {
  if (ids.length === 0) return "";
  let prefix = ids[0]!.split("::")[0]!;
  for (const id of ids) {
    const file = id.split("::")[0]!;
    while (prefix && !file.startsWith(prefix)) prefix = prefix.slice(0, -1);
  }
  const slash = prefix.lastIndexOf("/");
  return slash >= 0 ? prefix.slice(0, slash + 1) : "";
}

/**
 * A scenario's tests in markdown: failing and regressed tests (folded when many), the top 5 by
 * peak heap (folded), glob warnings. `escape` is the renderer's escape for user text. The status is
 * each row's icon, as in the main table; figures keep their units on the line (non-breaking spaces).
 */
export function markdownTests(
  s: ScenarioReport,
  options: { open: boolean; compact: boolean; link?: (location: string) => string | undefined },
): string | undefined {
  const line = testsLine(s);
  if (!line) return undefined;
  const rows = failingTestRows(s);
  const top = options.compact ? [] : topTests(s);
  const folder = commonFolder([...rows.map((r) => r.id), ...top.map((t) => t.id)]);
  const short = (id: string) => escapeMarkdown(id.slice(folder.length));
  const nb = (text: string) => text.replace(/ /g, "\u00a0");
  const where = folder ? ` in \`${folder.replace(/`/g, "")}\`` : "";
  const out: string[] = [`**${escapeMarkdown(s.name)}** · ${escapeMarkdown(line)}${where}`, ""];
  if (s.testSummary?.heapUnavailable) {
    out.push(`> peak heap per test unavailable: ${escapeMarkdown(s.testSummary.heapUnavailable)}`, "");
  }
  if (rows.length > 0) {
    const table = [
      "| | Test | Figure | Base | Head | Change | Budget |",
      "|---|---|---|--:|--:|--:|--:|",
      ...rows.map((r) => {
        const c = cellsOf(r);
        const change = c.change && c.change !== "—" ? `**${c.change}**` : c.change;
        return `| ${ICON[r.status]} | ${short(r.id)} | ${nb(c.metric)} | ${nb(c.base)} | ${nb(c.head)} | ${change} | ${r.metric ? nb(c.budget) : escapeMarkdown(c.budget)} |`;
      }),
    ];
    if (rows.length > UNFOLDED && !options.open) {
      out.push(
        `<details><summary>${rows.length} failing or regressed test rows</summary>`,
        "",
        ...table,
        "",
        "</details>",
        "",
      );
    } else out.push(...table, "");
  }
  if (!options.compact) out.push(...markdownTestSites(s, options));
  if (top.length > 0) {
    const table = [
      "| | Test | Peak heap | Budget |",
      "|---|---|--:|--:|",
      ...top.map((t) => {
        const m = t.metrics.peakHeap!;
        const budget = m.budget !== undefined ? formatValue("bytes", m.budget) : "—";
        return `| ${ICON[t.status]} | ${short(t.id)} | ${nb(formatValue("bytes", m.value))} | ${nb(budget)} |`;
      }),
    ];
    if (options.open) out.push(`Top ${top.length} tests by peak heap:`, "", ...table, "");
    else
      out.push(
        `<details><summary>Top ${top.length} tests by peak heap</summary>`,
        "",
        ...table,
        "",
        "</details>",
        "",
      );
  }
  for (const w of s.testSummary ? testWarnings(s.testSummary) : []) out.push(`> ⚠️ ${escapeMarkdown(w)}`, "");
  return out.join("\n").trimEnd();
}
