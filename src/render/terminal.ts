// Report → a plain table for the terminal (colour only when asked: a TTY without NO_COLOR).

import { METRICS } from "../model/metrics.js";
import type { Report, ScenarioReport } from "../model/report.js";
import { type Status, shownStatus } from "../model/status.js";
import { showable } from "../model/text.js";
import { formatSize, formatValue } from "../model/units.js";
import { formatDelta, STATUS_WORD } from "./format.js";
import { terminalTestLines } from "./pytest.js";
import { headlineSites, needsAttention, rowsOf, sortScenarios, unavailableGroups } from "./select.js";
import { NOTE_LIMIT, plain } from "./text.js";

/** How many sites the terminal lists under a failing scenario. */
const TERMINAL_SITES = 5;

const COLOUR: Record<Status, number> = {
  pass: 32,
  over: 31,
  regressed: 33,
  error: 31,
  new: 36,
  removed: 90,
  unbudgeted: 90,
};

export interface TerminalOptions {
  colour: boolean;
  /** Show every measured metric, not only budgeted ones. */
  all?: boolean;
}

/** Whether to colour stdout: a TTY, and neither NO_COLOR nor TERM=dumb. */
export function wantsColour(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  if (env["NO_COLOR"] !== undefined && env["NO_COLOR"] !== "") return false;
  if (env["FORCE_COLOR"] !== undefined && env["FORCE_COLOR"] !== "0") return true;
  return Boolean(stream.isTTY) && env["TERM"] !== "dumb";
}

export function renderTerminal(report: Report, options: TerminalOptions): string {
  const paint = (status: Status, text: string) =>
    options.colour ? `\x1b[${COLOUR[status]}m${text}\x1b[0m` : text;
  const bold = (text: string) => (options.colour ? `\x1b[1m${text}\x1b[0m` : text);
  const hasBase = report.base !== undefined;
  const header = hasBase
    ? ["scenario", "metric", "base", "head", "change", "budget", "status"]
    : ["scenario", "metric", "value", "min … max", "budget", "status"];
  const body: { cells: string[]; status: Status }[] = [];
  // Lines printed under a scenario's rows, outside the table's columns (its sites).
  const below = new Map<number, string[]>();
  for (const s of sortScenarios(report.scenarios)) {
    let first = true;
    for (const row of rowsOf(s, options.all)) {
      const name = first ? plain(s.name) : "";
      first = false;
      if (row.metric && row.unavailable !== undefined) {
        const label = METRICS[row.metric].label;
        const cells = hasBase
          ? [name, label, "—", "unavailable", "", "—", "n/a"]
          : [name, label, "unavailable", "", "—", "n/a"];
        body.push({ cells, status: s.status === "error" ? "error" : "unbudgeted" });
        continue;
      }
      if (!row.metric || !row.summary) {
        const cells = hasBase ? [name, "—", "", "", "", "", ""] : [name, "—", "", "", "", ""];
        cells[cells.length - 1] = STATUS_WORD[s.status];
        body.push({ cells, status: s.status });
        continue;
      }
      const m = row.summary;
      const unit = METRICS[row.metric].unit;
      const value = formatValue(unit, m.value);
      const budget = m.budget !== undefined ? formatValue(unit, m.budget) : "—";
      const status = m.status;
      const cells = hasBase
        ? [
            name,
            METRICS[row.metric].label,
            m.base ? formatValue(unit, m.base.value) : "—",
            value,
            formatDelta(m.delta) ?? "—",
            budget,
            STATUS_WORD[status],
          ]
        : [
            name,
            METRICS[row.metric].label,
            value,
            m.runs > 1 ? `${formatValue(unit, m.min)} … ${formatValue(unit, m.max)}` : "",
            budget,
            STATUS_WORD[status],
          ];
      body.push({ cells, status });
    }
    const lines = [
      ...unavailableLines(s, options.all),
      ...(needsAttention(s) ? siteLines(s) : []),
      ...terminalTestLines(s),
    ];
    if (lines.length > 0) below.set(body.length - 1, lines);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => [...(r.cells[i] ?? "")].length)));
  const right = new Set(hasBase ? [2, 3, 4, 5] : [2, 3, 4]);
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (right.has(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join("  ")
      .trimEnd();
  const out = [bold(line(header))];
  for (const [i, r] of body.entries()) {
    const text = line(r.cells);
    const word = r.cells.at(-1) ?? "";
    out.push(
      text.endsWith(word) && word ? text.slice(0, text.length - word.length) + paint(r.status, word) : text,
    );
    out.push(...(below.get(i) ?? []));
  }
  out.push("");
  for (const s of report.scenarios.filter((x) => x.status === "error")) out.push(...errorBlock(s), "");
  out.push(paint(shownStatus(report.status), plain(report.summary)));
  for (const note of report.notes ?? []) out.push(`note: ${plain(note, NOTE_LIMIT)}`);
  return `${out.join("\n")}\n`;
}

function errorBlock(s: ScenarioReport): string[] {
  const lines = [`${plain(s.name)}: ${plain(s.reason ?? "error")}`];
  const run = s.runs.find((r) => r.error);
  const tail = showable(run?.stderrTail || run?.stdoutTail || "", true)
    .trimEnd()
    .split("\n")
    .slice(-15);
  if (tail.length > 0 && tail[0] !== "") lines.push(...tail.map((l) => `  │ ${l}`));
  return lines;
}

/** Under a scenario: why its unavailable metrics have no figure, one line per reason. */
function unavailableLines(s: ScenarioReport, all = false): string[] {
  return unavailableGroups(s, all).map(
    ({ metrics, why }) => `  ${metrics.map((m) => METRICS[m].label).join(", ")} unavailable: ${plain(why)}`,
  );
}

/** The top sites of a failing scenario, indented: growth (or size), size, location, function. */
function siteLines(s: ScenarioReport): string[] {
  const shown = headlineSites(s);
  if (!shown) return [];
  const sites = shown.sites.slice(0, TERMINAL_SITES);
  const title =
    shown.kind === "diff"
      ? "sites that grew most against the base:"
      : shown.kind === "peak"
        ? "sites holding most at the peak:"
        : shown.kind === "retained"
          ? "sites that kept most per request after warm-up:"
          : "sites that allocated most:";
  const rows = sites.map((site) => {
    const base = site.baseBytes;
    const change =
      shown.kind === "retained"
        ? `${formatSize(site.perRequest ?? 0)}/request`
        : shown.kind !== "diff"
          ? ""
          : base
            ? `+${formatSize(site.bytes - base)}`
            : "new";
    const from = shown.kind === "diff" && base ? ` (from ${formatSize(base)})` : "";
    return {
      change,
      size: site.error ? `${formatSize(site.bytes)} ± ${formatSize(site.error)}` : formatSize(site.bytes),
      where: `${plain(site.location)}${site.function ? `  ${plain(site.function)}` : ""}${from}${site.context ? `  via ${plain(site.context)}` : ""}`,
    };
  });
  const wc = Math.max(...rows.map((r) => r.change.length));
  const ws = Math.max(...rows.map((r) => r.size.length));
  return [
    `  ${title}`,
    ...rows.map((r) =>
      `    ${wc > 0 ? `${r.change.padStart(wc)}  ` : ""}${r.size.padStart(ws)}  ${r.where}`.trimEnd(),
    ),
  ];
}
