// Rewrites the budgets of a budget file from measured figures plus headroom, keeping the file's
// comments and layout (`membudget update`). Pure: text and a report in, text out.
import { applyEdits, type FormattingOptions, modify } from "jsonc-parser";
import { METRICS, type MetricKey } from "../model/metrics.js";
import type { Report } from "../model/report.js";

export interface BudgetUpdate {
  scenario: string;
  metric: MetricKey;
  from?: number;
  to: number;
  text: string | number;
}

export interface UpdateOptions {
  /** Fraction added on top of the largest measured value (0.1 = 10 %). */
  headroom: number;
  /** Metrics to (re)budget; default: those each scenario already budgets. */
  metrics?: MetricKey[];
}

/**
 * New budgets for every scenario of the report: the largest value of its runs (the max, not the
 * median, so that the budget holds on the next noisy run) plus headroom, rounded up to a tidy figure.
 */
export function budgetUpdates(
  report: Report,
  budgets: Map<string, Partial<Record<MetricKey, number>>>,
  options: UpdateOptions,
): BudgetUpdate[] {
  const updates: BudgetUpdate[] = [];
  for (const s of report.scenarios) {
    const current = budgets.get(s.name);
    if (!current || s.status === "error" || s.status === "removed") continue;
    const metrics = options.metrics ?? (Object.keys(current) as MetricKey[]);
    for (const metric of metrics) {
      const measured = s.metrics[metric];
      if (!measured) continue;
      const { value, text } = tidy(metric, measured.max * (1 + options.headroom));
      if (current[metric] === value) continue;
      updates.push({
        scenario: s.name,
        metric,
        ...(current[metric] !== undefined ? { from: current[metric] } : {}),
        to: value,
        text,
      });
    }
  }
  return updates;
}

/** The budget file's text with the updates applied; everything else (comments, order, layout) stays. */
export function applyBudgetUpdates(text: string, updates: BudgetUpdate[]): string {
  const formattingOptions: FormattingOptions = {
    insertSpaces: true,
    tabSize: 2,
    eol: text.includes("\r\n") ? "\r\n" : "\n",
  };
  let out = text;
  for (const u of updates) {
    out = applyEdits(
      out,
      modify(out, ["scenarios", u.scenario, "budget", u.metric], u.text, { formattingOptions }),
    );
  }
  return out;
}

const MiB = 1024 * 1024;

/** Rounds up to two significant figures in the unit a person would write. */
function tidy(metric: MetricKey, raw: number): { value: number; text: string | number } {
  const unit = METRICS[metric].unit;
  if (unit === "bytes" || unit === "bytesPerSecond") {
    const [size, suffix] =
      raw >= 1024 * MiB
        ? [1024 * MiB, "GiB"]
        : raw >= MiB
          ? [MiB, "MiB"]
          : raw >= 1024 || metric !== "retainedPerRequest"
            ? [1024, "KiB"]
            : [1, "B"];
    const n = roundUp(raw / size);
    return { value: Math.round(n * size), text: `${n} ${suffix}${unit === "bytesPerSecond" ? "/s" : ""}` };
  }
  if (unit === "seconds") {
    if (raw < 1) {
      const ms = roundUp(raw * 1000);
      return { value: ms / 1000, text: `${ms}ms` };
    }
    const s = roundUp(raw);
    return { value: s, text: `${s}s` };
  }
  const n = roundUp(raw);
  return { value: n, text: n };
}

function roundUp(x: number): number {
  if (x <= 0) return 0;
  const magnitude = 10 ** (Math.floor(Math.log10(x)) - 1);
  // toPrecision drops binary noise such as 1.3000000000000003.
  return Number((Math.ceil(x / magnitude) * magnitude).toPrecision(12));
}
