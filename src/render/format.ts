// Human forms of figures, shared by every renderer.
import { formatCount, formatDuration, formatPercent, formatRate, formatSize } from "../config/units.js";
import type { Unit } from "../report/metrics.js";
import type { Status } from "../report/types.js";

export function formatValue(unit: Unit, value: number): string {
  switch (unit) {
    case "bytes":
      return formatSize(value);
    case "bytesPerSecond":
      return formatRate(value);
    case "seconds":
      return formatDuration(value);
    case "count":
      return formatCount(value);
  }
}

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
