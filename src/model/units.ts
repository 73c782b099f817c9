// The units of budget files and reports, in one table: how each is written (the schema's patterns
// are these), parsed, bounded and printed. A bare number is the base unit (bytes, seconds, …).

/** What a metric's figure is measured in. */
export type Unit = "bytes" | "count" | "bytesPerSecond" | "seconds" | "perSecond";

/** How a value is written in a budget file: the four metric units, and percentages (tolerance). */
export type Syntax = "size" | "rate" | "duration" | "count" | "percent" | "frequency";

interface SyntaxInfo {
  /** "a size", for messages. */
  what: string;
  /** The accepted forms, in words, for the fix of a budget-file error. */
  forms: string;
  /** The string form (the schema's `pattern`; the number group is the first capture). */
  pattern: string;
  /** Suffix → factor to the base unit, lower-cased; "" is a bare number. */
  factors: Record<string, number>;
  /** The largest value that means something (a value above it is a mistake, not a budget). */
  max: number;
  /** The largest value, as the error message says it. */
  maxText: string;
}

// Spaces and tabs only: a newline inside "64\nMiB" is a mistake, not a size.
const S = "[ \\t]*";
const NUMBER = "(\\d+(?:\\.\\d+)?|\\.\\d+)";
const SIZE_SUFFIX = "([kKmMgGtTpP]i?[bB]|[bB])?";

const SIZE_FACTORS = {
  "": 1,
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  pb: 1e15,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
  pib: 1024 ** 5,
};

/** 1 PiB: more memory than any machine a CI job runs on; past it a number is a typo. */
const MAX_BYTES = 1024 ** 5;

export const SYNTAX: Record<Syntax, SyntaxInfo> = {
  size: {
    what: "a size",
    forms:
      "a number of bytes or a size such as 512 KiB, 64MiB, 1.5 GB (KiB/MiB/GiB = 1024ⁿ, kB/MB/GB = 1000ⁿ)",
    pattern: `^${S}${NUMBER}${S}${SIZE_SUFFIX}${S}$`,
    factors: SIZE_FACTORS,
    max: MAX_BYTES,
    maxText: "1 PiB",
  },
  rate: {
    what: "a rate",
    forms: "a size per second such as 400 MB/s or 64MiB/s",
    pattern: `^${S}${NUMBER}${S}${SIZE_SUFFIX}${S}/${S}[sS](?:[eE][cC])?${S}$`,
    factors: SIZE_FACTORS,
    max: MAX_BYTES,
    maxText: "1 PiB/s",
  },
  duration: {
    what: "a duration",
    forms: "a duration such as 500ms, 30s, 5m, 1h (a bare number is seconds)",
    pattern: `^${S}${NUMBER}${S}(ms|s|m|min|h)?${S}$`,
    factors: { "": 1, ms: 1e-3, s: 1, m: 60, min: 60, h: 3600 },
    // Node's timers hold at most 2³¹−1 ms (24.8 days); a day is already far past any CI job.
    max: 24 * 3600,
    maxText: "24h",
  },
  count: {
    what: "a count",
    forms: "a whole number such as 250000, or with a k/M/G suffix such as 250k, 1.5M",
    pattern: `^${S}${NUMBER}${S}([kKmMgG])?${S}$`,
    factors: { "": 1, k: 1e3, m: 1e6, g: 1e9 },
    max: 1e15,
    maxText: "1e15",
  },
  frequency: {
    what: "a frequency",
    forms: "a number of events per second such as 2000/s, 2k/s or 1.5k req/s",
    pattern: `^${S}${NUMBER}${S}([kKmMgG])?${S}(?:req${S})?/${S}[sS](?:[eE][cC])?${S}$`,
    factors: { "": 1, k: 1e3, m: 1e6, g: 1e9 },
    max: 1e12,
    maxText: "1e12/s",
  },
  percent: {
    what: "a percentage",
    forms: "a percentage such as 2% or 0.5%, from 0% to 1000%",
    pattern: `^${S}${NUMBER}${S}(%)${S}$`,
    factors: { "%": 1, "": 1 },
    max: 1000,
    maxText: "1000%",
  },
};

/** The syntax a metric's budget is written in. */
export const SYNTAX_OF_UNIT: Record<Unit, Syntax> = {
  bytes: "size",
  bytesPerSecond: "rate",
  seconds: "duration",
  count: "count",
  perSecond: "frequency",
};

const compiled = new Map<Syntax, RegExp>();

/**
 * The value in the base unit (bytes, bytes/s, seconds, a count; a percentage as written, 2 for
 * "2%"), or undefined when `value` is not written in that syntax or is not finite. Bounds are the
 * caller's to check against `SYNTAX[syntax].max`, so that it can say which bound was passed.
 */
export function parseIn(syntax: Syntax, value: number | string): number | undefined {
  const n = parseExact(syntax, value);
  if (n === undefined) return undefined;
  return syntax === "size" || syntax === "rate" || syntax === "count" ? Math.round(n) : n;
}

/** As parseIn, before sizes, rates and counts are rounded to whole units (to say that 2.5 is no count). */
export function parseExact(syntax: Syntax, value: number | string): number | undefined {
  const info = SYNTAX[syntax];
  let n: number;
  if (typeof value === "number") {
    n = value;
  } else {
    let re = compiled.get(syntax);
    if (!re) {
      re = new RegExp(info.pattern);
      compiled.set(syntax, re);
    }
    const m = re.exec(value);
    if (!m) return undefined;
    const factor = info.factors[(m[2] ?? "").toLowerCase()];
    if (factor === undefined) return undefined;
    n = Number(m[1]) * factor;
  }
  if (!Number.isFinite(n) || n < 0) return undefined;
  return n;
}

/** Bytes from "64 MiB", "64MB", "1.5GiB" or a bare number of bytes; undefined when not a size. */
export const parseSize = (value: number | string) => parseIn("size", value);
/** Bytes per second from "400 MB/s"; undefined when not a rate. */
export const parseRate = (value: number | string) => parseIn("rate", value);
/** Seconds from "500ms", "30s", "5m" or a bare number of seconds. */
export const parseDuration = (value: number | string) => parseIn("duration", value);
/** A count from 250000, "250k" or "1.5M". */
export const parseCount = (value: number | string) => parseIn("count", value);
/** A fraction (0.02) from "2%" or 2. */
export function parsePercent(value: number | string): number | undefined {
  const p = parseIn("percent", value);
  return p === undefined ? undefined : p / 100;
}

const IEC = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

/** "64.0 MiB": the one canonical output form of a size. */
export function formatSize(bytes: number): string {
  if (!Number.isFinite(bytes)) return "—";
  const sign = bytes < 0 ? "-" : "";
  let v = Math.abs(bytes);
  let i = 0;
  while (v >= 1024 && i < IEC.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${sign}${Math.round(v)} B` : `${sign}${v.toFixed(v >= 100 ? 0 : 1)} ${IEC[i]}`;
}

export function formatRate(bytesPerSecond: number): string {
  return `${formatSize(bytesPerSecond)}/s`;
}

/**
 * "27 ms", "1.20 s", "2 min 05 s": a measured time. Every figure membudget prints is a number, a
 * space and its unit ("64.0 MiB", "12.3 k"); only a percentage is written without the space.
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "—";
  const s = Math.abs(seconds);
  if (s < 1e-3) return `${(seconds * 1e6).toFixed(0)} µs`;
  if (s < 1) return `${(seconds * 1e3).toFixed(s < 0.01 ? 2 : s < 0.1 ? 1 : 0)} ms`;
  if (s < 60) return `${seconds.toFixed(2)} s`;
  const m = Math.floor(s / 60);
  return `${seconds < 0 ? "-" : ""}${m} min ${Math.round(s - m * 60)
    .toString()
    .padStart(2, "0")} s`;
}

/** A time as a setting is written (a timeout, a grace period), exactly and in the same form: "5 min", "1.5 s", "500 ms". */
export function formatSetting(seconds: number): string {
  if (seconds >= 60 && seconds % 60 === 0) return `${seconds / 60} min`;
  if (seconds >= 1) return `${Number(seconds.toFixed(3))} s`;
  return `${Number((seconds * 1000).toFixed(3))} ms`;
}

export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return "—";
  const s = Math.abs(n);
  if (s >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (s >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (s >= 1e4) return `${(n / 1e3).toFixed(1)} k`;
  return String(Math.round(n));
}

export function formatPercent(fraction: number, signed = false): string {
  const p = fraction * 100;
  const digits = Math.abs(p) >= 100 ? 0 : 1;
  const text = `${p.toFixed(digits)}%`;
  return signed && p > 0 ? `+${text}` : text;
}

/** "1.2 k/s": events (requests) per second. */
export function formatFrequency(perSecond: number): string {
  if (!Number.isFinite(perSecond)) return "—";
  return `${Math.abs(perSecond) < 100 ? perSecond.toFixed(1) : formatCount(perSecond)}/s`;
}

const FORMAT: Record<Unit, (value: number) => string> = {
  perSecond: formatFrequency,
  bytes: formatSize,
  bytesPerSecond: formatRate,
  seconds: formatDuration,
  count: formatCount,
};

/** A figure in its unit's canonical form: "64.0 MiB", "400 MiB/s", "1.20 s", "2.50 M". */
export function formatValue(unit: Unit, value: number): string {
  return FORMAT[unit](value);
}

/**
 * How far `roundUpBudget` may round a figure up: the step is the largest 1, 2 or 5 × 10ⁿ of the
 * unit written that is at most this fraction of the figure, so a written budget is never more than
 * 2 % above the figure asked for, and is still a figure a person would write ("102 MiB", "42 ms").
 */
export const BUDGET_ROUNDING = 0.02;

/**
 * The budget text for a figure, rounded up (never down) to a tidy value in the unit a person would
 * write it in: sizes in B, KiB, MiB or GiB, durations in ms or s, counts as a number or with k/M/G.
 * `value` is what the text parses to, in the base unit.
 */
export function roundUpBudget(unit: Unit, raw: number): { value: number; text: string | number } {
  if (!(raw > 0) || !Number.isFinite(raw)) return { value: 0, text: unit === "count" ? 0 : zeroText(unit) };
  const [scale, suffix] = budgetUnit(unit, raw);
  // Bytes and counts are whole numbers: "12.3 KiB" is 12,595 bytes, and a bare count has no decimals.
  const integral = unit === "bytes" || unit === "bytesPerSecond" || unit === "count";
  const least = integral && scale === 1 ? 1 : 0;
  const written = (n: number) => {
    const text = unit === "count" && suffix === "" ? n : `${n} ${suffix}`;
    // What the budget file will say, exactly as loading it reads the text.
    return { value: parseIn(SYNTAX_OF_UNIT[unit], text) ?? n * scale, text };
  };
  let n = roundUpTidy(raw / scale, least, 0);
  let budget = written(n);
  // Binary fractions (1.3 / 0.1 = 13.000000000000002) are read as at most one step too many or
  // too few; a step too few is taken back here, so the budget is never below what was asked.
  if (budget.value < raw - (integral ? 1e-9 : raw * 1e-12)) {
    n = roundUpTidy(raw / scale, least, 1);
    budget = written(n);
  }
  return budget;
}

function zeroText(unit: Unit): string {
  return unit === "seconds"
    ? "0 ms"
    : unit === "perSecond"
      ? "0/s"
      : unit === "bytesPerSecond"
        ? "0 B/s"
        : "0 B";
}

/** The unit a budget of this size is written in: [its factor to the base unit, its suffix]. */
function budgetUnit(unit: Unit, raw: number): [number, string] {
  const rate = unit === "bytesPerSecond" ? "/s" : "";
  switch (unit) {
    case "bytes":
    case "bytesPerSecond": {
      const i = Math.min(3, Math.max(0, Math.floor(Math.log(raw) / Math.log(1024))));
      return [1024 ** i, `${IEC[i]}${rate}`];
    }
    case "seconds":
      return raw < 1 ? [1e-3, "ms"] : [1, "s"];
    case "count":
    case "perSecond": {
      const per = unit === "perSecond" ? "/s" : "";
      if (raw >= 1e9) return [1e9, `G${per}`];
      if (raw >= 1e6) return [1e6, `M${per}`];
      if (raw >= 1e4) return [1e3, `k${per}`];
      return [1, per];
    }
  }
}

/**
 * `x` rounded up to a multiple of the largest 1, 2 or 5 × 10ⁿ step (at least `least`) that is at
 * most BUDGET_ROUNDING of `x`, plus `more` steps.
 */
function roundUpTidy(x: number, least: number, more: number): number {
  const limit = x * BUDGET_ROUNDING;
  let step = 10 ** Math.floor(Math.log10(limit));
  if (step * 5 <= limit) step *= 5;
  else if (step * 2 <= limit) step *= 2;
  step = Math.max(step, least);
  // toPrecision drops binary noise such as 1.3000000000000003.
  // A hair above a multiple (a written budget read back in bytes) is that multiple: never a step up.
  return Number(((Math.ceil(x / step - 1e-6) + more) * step).toPrecision(12));
}

/** "1 scenario", "3 scenarios": a count and its noun, for every sentence that says how many. */
export function plural(n: number, word: string, words = `${word}s`): string {
  return `${n} ${n === 1 ? word : words}`;
}
