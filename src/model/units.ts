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
  return syntax === "size" || syntax === "rate" || syntax === "count" ? Math.round(n) : n;
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

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "—";
  const s = Math.abs(seconds);
  if (s < 1e-3) return `${(seconds * 1e6).toFixed(0)} µs`;
  if (s < 1) return `${(seconds * 1e3).toFixed(s < 0.01 ? 2 : s < 0.1 ? 1 : 0)} ms`;
  if (s < 60) return `${seconds.toFixed(2)} s`;
  const m = Math.floor(s / 60);
  return `${seconds < 0 ? "-" : ""}${m}m${Math.round(s - m * 60)
    .toString()
    .padStart(2, "0")}s`;
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

/** "1 scenario", "3 scenarios": a count and its noun, for every sentence that says how many. */
export function plural(n: number, word: string, words = `${word}s`): string {
  return `${n} ${n === 1 ? word : words}`;
}
