// When the sticky comment is created, updated or deleted: a pure function of the report and the `comment` input.

import type { StickyAction } from "../github/comment.js";
import type { Report } from "../model/report.js";
import { needsAttention } from "../render/select.js";
import type { CommentMode } from "./inputs.js";

/**
 * Whether a figure moved: a scenario appeared or went, or a deterministic figure changed by more
 * than its tolerance against the base (a noisy one moving is not news).
 */
export function figuresMoved(report: Report): boolean {
  return report.scenarios.some(
    (s) =>
      s.status === "new" ||
      s.status === "removed" ||
      Object.values(s.metrics).some(
        (m) => m.delta !== undefined && Math.abs(m.delta) > s.tolerance && m.deterministic,
      ),
  );
}

/**
 * always/from-report: create or update; auto: create only when something needs attention, else
 * update one already there (so it says all passes now); on-change: create or update while a figure
 * moved or something needs attention, delete it once neither is so. `never` posts nothing.
 */
export function stickyAction(report: Report, mode: Exclude<CommentMode, "never">): StickyAction {
  if (mode === "always" || mode === "from-report") return "upsert";
  if (report.scenarios.some(needsAttention)) return "upsert";
  if (mode === "on-change") return figuresMoved(report) ? "upsert" : "delete";
  return "update";
}
