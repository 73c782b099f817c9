// A scenario's memory timeline → a Mermaid `xychart-beta` line chart that GitHub renders in comments and summaries.

import { largest } from "../model/numbers.js";
import type { ScenarioReport, TimelinePoint } from "../model/report.js";
import { formatValue } from "../model/units.js";

/** Points per line: enough to show the shape, few enough for a hundred charts in one comment. */
export const CHART_POINTS = 40;

const MiB = 1024 * 1024;

/**
 * One colour per line, in the order the lines are declared. xychart-beta colours its lines from
 * the theme's `plotColorPalette` by declaration order (the default theme's first colour is a pale
 * lavender, nearly invisible on white), so the chart sets the palette itself. Every colour has at
 * least 3:1 contrast against both of GitHub's backgrounds, light (#ffffff) and dark (#0d1117)
 * (WCAG's bound for graphics; a test computes it), and orange against blue keeps the head's two
 * lines apart for the common colour-vision deficiencies. The legend does not rely on colour alone:
 * it names each line's highest value and when it is reached.
 */
export const COLOURS = {
  baseRss: { hex: "#7d8590", word: "grey" },
  headRss: { hex: "#bc4c00", word: "orange" },
  baseHeap: { hex: "#a371f7", word: "purple" },
  headHeap: { hex: "#0969da", word: "blue" },
} as const;

type SeriesKey = keyof typeof COLOURS;

export interface Series {
  key: SeriesKey;
  label: string;
  /** Bytes at 0 %, …, 100 % of the run's wall time, CHART_POINTS values. */
  values: number[];
}

/**
 * The timeline's `key` at `points` evenly spaced fractions of the run (0 … 100 % of its last sample's
 * time). Each value is the largest sample within half a step of its fraction, so a short peak is
 * kept rather than averaged away; where no sample falls that close, the value is interpolated.
 * Undefined when the timeline has no value for `key`.
 */
export function resample(
  timeline: readonly TimelinePoint[],
  key: "rss" | "heap",
  points = CHART_POINTS,
): number[] | undefined {
  const samples = timeline
    .filter((p) => typeof p[key] === "number" && Number.isFinite(p[key]) && Number.isFinite(p.t))
    .map((p) => ({ t: p.t, v: p[key] as number }))
    .sort((a, b) => a.t - b.t);
  if (samples.length === 0 || points < 1) return undefined;
  const end = samples.at(-1)!.t;
  if (points === 1 || end <= 0) return Array.from({ length: points }, () => largest(samples.map((s) => s.v)));
  const step = 1 / (points - 1);
  const out: number[] = [];
  for (let i = 0; i < points; i++) {
    const f = i * step;
    let max = -Infinity;
    for (const s of samples) {
      const g = s.t / end;
      if (g >= f - step / 2 && g < f + step / 2 + (i === points - 1 ? 1e-9 : 0)) max = Math.max(max, s.v);
    }
    out.push(max > -Infinity ? max : interpolate(samples, f * end));
  }
  return out;
}

function interpolate(samples: { t: number; v: number }[], t: number): number {
  const after = samples.findIndex((s) => s.t >= t);
  if (after <= 0) return samples[after < 0 ? samples.length - 1 : 0]!.v;
  const a = samples[after - 1]!;
  const b = samples[after]!;
  return b.t === a.t ? b.v : a.v + ((b.v - a.v) * (t - a.t)) / (b.t - a.t);
}

/** The lines a scenario's chart draws, base before head (so the head is drawn on top). */
export function chartSeries(s: ScenarioReport, points = CHART_POINTS): Series[] {
  const series: Series[] = [];
  const add = (key: SeriesKey, label: string, values: number[] | undefined) => {
    if (values) series.push({ key, label, values });
  };
  const base = s.baseTimeline && s.baseTimeline.length > 0 ? s.baseTimeline : undefined;
  const head = s.timeline && s.timeline.length > 0 ? s.timeline : undefined;
  if (!head) return [];
  if (base) add("baseRss", "base RSS", resample(base, "rss", points));
  add("headRss", base ? "head RSS" : "RSS", resample(head, "rss", points));
  if (base) add("baseHeap", "base heap", resample(base, "heap", points));
  add("headHeap", base ? "head heap" : "heap", resample(head, "heap", points));
  return series;
}

/** Title text that cannot end the quoted string or start Mermaid syntax: a closed set of characters. */
export function chartTitle(name: string): string {
  const safe = name
    .replace(/[^A-Za-z0-9 _.,:/+=-]/g, "_")
    .replace(/\s+/g, " ")
    .trim();
  return safe.length > 60 ? `${safe.slice(0, 57)}...` : safe || "scenario";
}

/** An axis fitted to its data: from `min` to `max` in steps of `step`. */
export interface Axis {
  min: number;
  max: number;
  step: number;
}

/**
 * The axis for values from `low` to `high` (from 0 when `fromZero`): the smallest step of 1, 2,
 * 2.5 or 5 × 10ⁿ that covers the data in at most 8 steps, its ends the multiples of the step
 * around the data. 242 MiB ends at 250 (a 1-2-5 ceiling made it 500); 3.1 s at 3.5 s; a retained
 * heap from 40.1 to 52.3 MiB runs from 40 to 54, so that its growth shows.
 */
export function fitAxis(low: number, high: number, fromZero = true): Axis {
  const lo = fromZero ? Math.min(0, low) : low;
  const hi = Math.max(high, lo);
  const span = hi - lo > 0 ? hi - lo : Math.abs(hi) > 0 ? Math.abs(hi) / 10 : 1;
  const base = 10 ** Math.floor(Math.log10(span / 8));
  for (const m of [1, 2, 2.5, 5, 10, 20]) {
    const step = m * base;
    const min = Math.floor(lo / step + 1e-9) * step;
    const max = Math.max(Math.ceil(hi / step - 1e-9) * step, min + step);
    if ((max - min) / step <= 8 + 1e-9) return { min: tidy(min), max: tidy(max), step: tidy(step) };
  }
  return { min: lo, max: hi, step: span };
}

const tidy = (n: number) => Number(n.toPrecision(10));

export interface MermaidChart {
  /** The fenced ```mermaid block. */
  block: string;
  /** One line naming each line's colour and highest value (xychart-beta may draw no legend). */
  legend: string;
}

/** The chart of a scenario's timeline (and its base's), or undefined when it has no timeline. */
export function mermaidChart(s: ScenarioReport): MermaidChart | undefined {
  const series = chartSeries(s);
  if (series.length === 0) return undefined;
  const { max: top } = fitAxis(0, largest(series.flatMap((x) => x.values)) / MiB);
  const digits = top <= 10 ? 2 : 1;
  const number = (bytes: number) => String(Number((bytes / MiB).toFixed(digits)));
  const heap = series.some((x) => x.key === "headHeap");
  const palette = series.map((x) => COLOURS[x.key].hex).join(", ");
  const lines = [
    "```mermaid",
    // A transparent plot: the lines then sit on the page itself (GitHub's #ffffff or #0d1117,
    // the backgrounds the palette is chosen for), not on a theme's own grey box.
    `%%{init: {"themeVariables": {"xyChart": {"plotColorPalette": "${palette}", "backgroundColor": "transparent"}}}}%%`,
    "xychart-beta",
    `  title "${chartTitle(s.name)}: ${heap ? "RSS and heap" : "RSS"}, MiB"`,
    `  x-axis "% of the run's wall time" 0 --> 100`,
    `  y-axis "MiB" 0 --> ${top}`,
    // A title per line: Mermaid versions with an xychart legend draw it; older ones ignore it.
    ...series.map((x) => `  line "${x.label}" [${x.values.map(number).join(", ")}]`),
    "```",
  ];
  const durations = [
    s.baseTimeline?.length ? `base ${seconds(s.baseTimeline)}` : undefined,
    `${s.baseTimeline?.length ? "head " : ""}${seconds(s.timeline ?? [])}`,
  ].filter(Boolean);
  const described = series.map((x) => `${COLOURS[x.key].word} = ${x.label} (${highest(x.values)})`);
  const oneRun = heap ? "; RSS and heap of one run, the instrumented one" : "";
  const legend = `Lines: ${described.join(", ")}; x = % of each run's wall time (${durations.join(", ")})${oneRun}.`;
  return { block: lines.join("\n"), legend };
}

/** "highest 80.0 MiB at 60 %": tells the lines apart without their colours. */
function highest(values: readonly number[]): string {
  let at = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[at]!) at = i;
  const percent = values.length > 1 ? Math.round((at / (values.length - 1)) * 100) : 0;
  return `highest ${formatValue("bytes", values[at] ?? 0)} at ${percent} %`;
}

function seconds(timeline: readonly TimelinePoint[]): string {
  const end = Math.max(0, largest(timeline.map((p) => p.t)));
  return end >= 10 ? `${end.toFixed(0)} s` : `${end.toFixed(end >= 1 ? 1 : 2)} s`;
}
