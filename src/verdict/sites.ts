// Head sites vs base sites → the sites that grew most (pure): what a reviewer reads under a regression.

import type { ScenarioReport, Site, SiteGrowth } from "../model/report.js";
import { splitLocation } from "../model/sites.js";

/** How many grown sites the diff keeps by default. */
export const SITE_DIFF_LIMIT = 10;

/**
 * The head sites that grew against the base, largest growth first, at most `limit`.
 * A site is the same site when its file, function and source line's text are the same (sites that
 * carry their line's text: an inserted line above it changes nothing); without the text, at the
 * same location; failing that (an unrelated edit moved its lines), the same function in the same
 * file, the nearest line first. A head site with no match in the base is new: its base is 0.
 * Sites that shrank or stayed put are left out, and so are sampled sites whose growth is within
 * twice the sampling error of the two estimates.
 */
export function siteDiff(head: Site[], base: Site[], limit = SITE_DIFF_LIMIT): SiteGrowth[] {
  const unmatched = new Set(base.map((_, i) => i));
  const matchOf = new Map<Site, Site>();
  const pair = (h: Site, same: (b: Site) => boolean) => {
    const i = base.findIndex((b, j) => unmatched.has(j) && same(b));
    if (i >= 0) {
      unmatched.delete(i);
      matchOf.set(h, base[i]!);
    }
  };
  // What the code is first, then exact locations, so a moved site cannot take the partner of one
  // that stayed.
  for (const h of head) {
    if (h.code === undefined) continue;
    const { file } = splitLocation(h.location);
    pair(h, (b) => b.code === h.code && b.function === h.function && splitLocation(b.location).file === file);
  }
  for (const h of head) {
    if (matchOf.has(h)) continue;
    // A line whose text both sides know and differ on is not the same site at the same number.
    pair(
      h,
      (b) => b.location === h.location && (b.code === undefined || h.code === undefined || b.code === h.code),
    );
  }
  for (const h of head) {
    if (matchOf.has(h) || !h.function) continue;
    const { file, line } = splitLocation(h.location);
    let best: number | undefined;
    let bestDistance = Infinity;
    for (const j of unmatched) {
      const b = base[j]!;
      const where = splitLocation(b.location);
      if (b.function !== h.function || where.file !== file) continue;
      if (b.code !== undefined && h.code !== undefined) continue; // two different statements
      const distance = line !== undefined && where.line !== undefined ? Math.abs(line - where.line) : 0;
      if (distance < bestDistance) {
        best = j;
        bestDistance = distance;
      }
    }
    if (best !== undefined) {
      unmatched.delete(best);
      matchOf.set(h, base[best]!);
    }
  }
  return head
    .map((h): SiteGrowth => {
      const b = matchOf.get(h);
      return { ...h, baseBytes: b?.bytes ?? 0, ...(b?.error !== undefined ? { baseError: b.error } : {}) };
    })
    .filter(
      (s) => s.bytes - s.baseBytes > 2 * Math.hypot(s.error ?? 0, s.baseError ?? 0) && s.bytes > s.baseBytes,
    )
    .sort((a, b) => b.bytes - b.baseBytes - (a.bytes - a.baseBytes) || b.bytes - a.bytes)
    .slice(0, Math.max(0, limit));
}

/**
 * The diff of a head scenario's sites against its base: of the peak sites when both sides have
 * them (what peak heap is made of), else of the sites that allocated most.
 */
export function scenarioSiteDiff(
  head: ScenarioReport["sites"],
  base: ScenarioReport["sites"],
  limit = SITE_DIFF_LIMIT,
  first: "peak" | "allocated" = "peak",
): { diff: SiteGrowth[]; diffOf: "peak" | "allocated" } | undefined {
  const kinds = first === "peak" ? (["peak", "allocated"] as const) : (["allocated", "peak"] as const);
  for (const kind of kinds) {
    const h = head?.[kind];
    const b = base?.[kind];
    if (h && b) return { diff: siteDiff(h, b, limit), diffOf: kind };
  }
  return undefined;
}

/**
 * Which list of sites explains a scenario's verdict: those that allocated most when only
 * `allocated` or `allocations` is over budget or regressed, else those live at the peak.
 */
export function explainingSites(s: Pick<ScenarioReport, "metrics">): "peak" | "allocated" {
  const bad = (k: "peakHeap" | "allocated" | "allocations") =>
    s.metrics[k]?.status === "over" || s.metrics[k]?.status === "regressed";
  return !bad("peakHeap") && (bad("allocated") || bad("allocations")) ? "allocated" : "peak";
}
