// A scenario's memory timeline → a self-contained SVG chart (what `--chart DIR` writes), pure.

import { largest } from "../model/numbers.js";
import type { ScenarioReport, TimelinePoint } from "../model/report.js";
import { formatSize } from "../model/units.js";
import { fitAxis } from "./mermaid.js";

const MiB = 1024 * 1024;

/** Where the plot sits in the picture; exported so tests can map points back to data. */
export const SVG_LAYOUT = { width: 760, height: 400, left: 64, right: 24, top: 44, bottom: 84 } as const;

const SERIES = [
  { id: "base-rss", side: "base", key: "rss", colour: "#cf222e", dashed: true, label: "base RSS" },
  { id: "base-heap", side: "base", key: "heap", colour: "#0969da", dashed: true, label: "base heap" },
  { id: "head-rss", side: "head", key: "rss", colour: "#cf222e", dashed: false, label: "head RSS" },
  { id: "head-heap", side: "head", key: "heap", colour: "#0969da", dashed: false, label: "head heap" },
] as const;

/** Text for XML content and attribute values. */
export function escapeXml(text: string): string {
  return text
    .replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
    .replace(
      // Control characters are not allowed in XML 1.0 at all.
      /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g,
      "",
    );
}

/** The chart of a scenario's timeline, base dashed, or undefined when it has none. */
export function renderSvg(s: ScenarioReport): string | undefined {
  const head = s.timeline ?? [];
  if (head.length === 0) return undefined;
  const base = s.baseTimeline ?? [];
  const sides: Record<"base" | "head", readonly TimelinePoint[]> = { base, head };
  const drawn = SERIES.map((x) => ({
    ...x,
    points: sides[x.side]
      .filter((p) => typeof p[x.key] === "number" && Number.isFinite(p[x.key]) && Number.isFinite(p.t))
      .map((p) => ({ t: p.t, v: p[x.key] as number })),
  })).filter((x) => x.points.length > 0);
  const label = (x: (typeof drawn)[number]) => (base.length > 0 ? x.label : x.label.replace(/^head /, ""));

  const { width, height, left, right, top, bottom } = SVG_LAYOUT;
  const plotW = width - left - right;
  const plotH = height - top - bottom;
  const tAxis = fitAxis(0, largest(drawn.flatMap((x) => x.points.map((p) => p.t))));
  const yAxis = fitAxis(0, largest(drawn.flatMap((x) => x.points.map((p) => p.v))) / MiB);
  const tMax = tAxis.max;
  const yMaxMiB = yAxis.max;
  const px = (t: number) => left + (t / tMax) * plotW;
  const py = (bytes: number) => top + plotH - (bytes / MiB / yMaxMiB) * plotH;
  const r = (n: number) => String(Math.round(n * 10) / 10);

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(`${s.name}: memory over the run`)}" data-t-max="${tMax}" data-y-max="${yMaxMiB * MiB}" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif" font-size="12">`,
    `<title>${escapeXml(`${s.name}: memory over the run`)}</title>`,
    // No background: the page's shows through, and the text takes the colours of its scheme.
    "<style>.ink{fill:#1f2328}.muted{fill:#59636e}.grid{stroke:#d1d9e0}.axis{stroke:#59636e}@media (prefers-color-scheme: dark){.ink{fill:#e6edf3}.muted{fill:#9198a1}.grid{stroke:#3d444d}.axis{stroke:#9198a1}}</style>",
    `<text x="${left}" y="24" font-size="15" font-weight="600" class="ink">${escapeXml(s.name)}</text>`,
    `<text x="${width - right}" y="24" text-anchor="end" class="muted">${escapeXml(peakLine(drawn))}</text>`,
  ];
  // Grid and ticks at the axes' steps, labelled in MiB and seconds.
  for (let v = 0; v <= yMaxMiB + 1e-9; v += yAxis.step) {
    const y = top + plotH - (v / yMaxMiB) * plotH;
    out.push(
      `<line x1="${left}" y1="${r(y)}" x2="${left + plotW}" y2="${r(y)}" class="grid" stroke-width="1"/>`,
      `<text x="${left - 6}" y="${r(y + 4)}" text-anchor="end" class="muted">${tick(v)}</text>`,
    );
  }
  for (let t = 0; t <= tMax + 1e-9; t += tAxis.step) {
    const x = left + (t / tMax) * plotW;
    out.push(
      `<line x1="${r(x)}" y1="${top + plotH}" x2="${r(x)}" y2="${top + plotH + 4}" class="axis"/>`,
      `<text x="${r(x)}" y="${top + plotH + 18}" text-anchor="middle" class="muted">${tick(t)}</text>`,
    );
  }
  out.push(
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}" class="axis"/>`,
    `<line x1="${left}" y1="${top + plotH}" x2="${left + plotW}" y2="${top + plotH}" class="axis"/>`,
    `<text x="${left + plotW / 2}" y="${top + plotH + 36}" text-anchor="middle" class="ink">seconds since the start of the run</text>`,
    `<text transform="translate(16 ${top + plotH / 2}) rotate(-90)" text-anchor="middle" class="ink">MiB</text>`,
  );
  for (const x of drawn) {
    const points = x.points.map((p) => `${r(px(p.t))},${r(py(p.v))}`).join(" ");
    out.push(
      `<polyline data-series="${x.id}" points="${points}" fill="none" stroke="${x.colour}" stroke-width="2" stroke-linejoin="round"${x.dashed ? ' stroke-dasharray="6 4"' : ""}/>`,
    );
  }
  // Legend under the axis label: a short sample of each line, then its name.
  let lx = left;
  const ly = height - 18;
  for (const x of drawn) {
    out.push(
      `<line x1="${lx}" y1="${ly - 4}" x2="${lx + 28}" y2="${ly - 4}" stroke="${x.colour}" stroke-width="2"${x.dashed ? ' stroke-dasharray="6 4"' : ""}/>`,
      `<text x="${lx + 34}" y="${ly}" class="ink">${escapeXml(label(x))}</text>`,
    );
    lx += 34 + label(x).length * 7 + 24;
  }
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}

function tick(n: number): string {
  return String(Number(n.toPrecision(4)));
}

function peakLine(drawn: { id: string; points: { v: number }[] }[]): string {
  const peak = (id: string) => {
    const x = drawn.find((d) => d.id === id);
    return x ? formatSize(largest(x.points.map((p) => p.v))) : undefined;
  };
  const head = peak("head-rss");
  const base = peak("base-rss");
  // The lines are one run's (the instrumented one, under the probe): its peak, not the table's
  // median of the clean runs, and said to be so.
  return base
    ? `peak RSS of the runs drawn: base ${base}, head ${head}`
    : `peak RSS of the run drawn: ${head}`;
}

/** A file name from a scenario name: lower case letters, digits, dots, dashes; never empty or hidden. */
export function chartSlug(name: string): string {
  const slug = name
    .normalize("NFKD")
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^[-.]+|[-.]+$/g, "")
    .slice(0, 80);
  return slug || "scenario";
}

/** One SVG file per scenario with a timeline, names unique even when two slugs collide. */
export function chartFiles(scenarios: readonly ScenarioReport[]): { file: string; svg: string }[] {
  const used = new Set<string>();
  const files: { file: string; svg: string }[] = [];
  for (const s of scenarios) {
    const svg = renderSvg(s);
    if (!svg) continue;
    const slug = chartSlug(s.name);
    let file = `${slug}.svg`;
    for (let n = 2; used.has(file); n++) file = `${slug}-${n}.svg`;
    used.add(file);
    files.push({ file, svg });
  }
  return files;
}
