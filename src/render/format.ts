// Human forms of figures, shared by every renderer.

import type { Status } from "../model/status.js";
import { formatPercent } from "../model/units.js";

/** "+38.0%", "−2.1%", "±0%"; undefined when there is no base. */
export function formatDelta(delta: number | undefined): string | undefined {
  if (delta === undefined || !Number.isFinite(delta)) return undefined;
  if (Math.abs(delta) < 0.0005) return "±0%";
  return formatPercent(delta, true).replace(/^-/, "−");
}

export const STATUS_WORD: Record<Status, string> = {
  pass: "pass",
  over: "over budget",
  regressed: "regressed",
  error: "error",
  new: "new",
  removed: "removed",
  unbudgeted: "measured",
};

/** The status as the markdown shows it, beside its word. */
export const ICON: Record<Status, string> = {
  pass: "✅",
  over: "🔴",
  regressed: "🟠",
  error: "💥",
  new: "🆕",
  removed: "➖",
  unbudgeted: "⚪",
};
