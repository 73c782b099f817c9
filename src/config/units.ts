// Parses and formats the human units of budget files: sizes, rates, durations, percentages, counts.

const SIZE_FACTORS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

const DURATION_FACTORS: Record<string, number> = { ms: 1e-3, s: 1, m: 60, min: 60, h: 3600 };

const COUNT_FACTORS: Record<string, number> = { "": 1, k: 1e3, m: 1e6, g: 1e9 };

export const SIZE_FORMS =
  "a number of bytes or a size such as 512 KiB, 64MiB, 1.5 GB (KiB/MiB/GiB = 1024ⁿ, kB/MB/GB = 1000ⁿ)";
export const RATE_FORMS = "a size per second such as 400 MB/s or 64MiB/s";
export const DURATION_FORMS = "a duration such as 500ms, 30s, 5m, 1h (a bare number is seconds)";
export const PERCENT_FORMS = "a percentage such as 2% or 0.5%";
export const COUNT_FORMS = "a whole number such as 250000, or with a k/M/G suffix such as 250k, 1.5M";

const NUMBER = String.raw`(\d+(?:\.\d+)?|\.\d+)`;

/** Bytes from "64 MiB", "64MB", "1.5GiB" or a bare number of bytes; undefined when not a size. */
export function parseSize(value: number | string): number | undefined {
  if (typeof value === "number") return value >= 0 && Number.isFinite(value) ? value : undefined;
  const m = new RegExp(`^\\s*${NUMBER}\\s*([a-zA-Z]*)\\s*$`).exec(value);
  if (!m) return undefined;
  const unit = (m[2] ?? "").toLowerCase();
  const factor = unit === "" ? 1 : SIZE_FACTORS[unit];
  if (factor === undefined) return undefined;
  return Math.round(Number(m[1]) * factor);
}

/** Bytes per second from "400 MB/s"; undefined when not a rate. */
export function parseRate(value: number | string): number | undefined {
  if (typeof value === "number") return value >= 0 && Number.isFinite(value) ? value : undefined;
  const m = /^(.*?)\s*\/\s*s(?:ec)?\s*$/i.exec(value);
  if (!m) return undefined;
  return parseSize(m[1] ?? "");
}

/** Seconds from "500ms", "30s", "5m" or a bare number of seconds. */
export function parseDuration(value: number | string): number | undefined {
  if (typeof value === "number") return value >= 0 && Number.isFinite(value) ? value : undefined;
  const m = new RegExp(`^\\s*${NUMBER}\\s*([a-zA-Z]*)\\s*$`).exec(value);
  if (!m) return undefined;
  const unit = (m[2] ?? "").toLowerCase();
  const factor = unit === "" ? 1 : DURATION_FACTORS[unit];
  if (factor === undefined) return undefined;
  return Number(m[1]) * factor;
}

/** A fraction (0.02) from "2%". */
export function parsePercent(value: number | string): number | undefined {
  if (typeof value === "number") return value >= 0 && Number.isFinite(value) ? value / 100 : undefined;
  const m = new RegExp(`^\\s*${NUMBER}\\s*%\\s*$`).exec(value);
  if (!m) return undefined;
  return Number(m[1]) / 100;
}

/** A count from 250000, "250k" or "1.5M". */
export function parseCount(value: number | string): number | undefined {
  if (typeof value === "number") return value >= 0 && Number.isFinite(value) ? Math.round(value) : undefined;
  const m = new RegExp(`^\\s*${NUMBER}\\s*([a-zA-Z]?)\\s*$`).exec(value);
  if (!m) return undefined;
  const factor = COUNT_FACTORS[(m[2] ?? "").toLowerCase()];
  if (factor === undefined) return undefined;
  return Math.round(Number(m[1]) * factor);
}

const IEC = ["B", "KiB", "MiB", "GiB", "TiB"];

/** "64.0 MiB": the one canonical output form of a size. */
export function formatSize(bytes: number): string {
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
