// The one table of units: the budget schema writes each unit as the table does, and the parser reads it so.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  formatSize,
  parseCount,
  parseDuration,
  parsePercent,
  parseRate,
  parseSize,
  SYNTAX,
} from "../../src/model/units.js";

const schema = JSON.parse(
  readFileSync(new URL("../../src/config/budgets.schema.json", import.meta.url), "utf8"),
);

describe("units", () => {
  it("gives the schema's $defs the table's patterns and bounds", () => {
    for (const [name, info] of Object.entries(SYNTAX)) {
      const def = schema.$defs[name];
      expect(def, name).toBeDefined();
      const [number, string] = def.anyOf;
      expect(string.pattern).toBe(info.pattern);
      expect(number.maximum).toBe(info.max);
      // The schema's pattern and the parser accept the same strings.
      const re = new RegExp(string.pattern);
      for (const text of ["64 MiB", "1.5GB", "400 MB/s", "5m", "2%", "250k", "64\nMiB", "1e3", " 12 "]) {
        expect(re.test(text), `${name}: ${JSON.stringify(text)}`).toBe(
          (name === "percent" ? parsePercent : (v: string) => parseAny(name, v))(text) !== undefined,
        );
      }
    }
  });

  it("reads IEC and SI sizes, rates, durations and percentages; refuses a newline inside a value", () => {
    expect(parseSize("64 MiB")).toBe(64 * 1024 ** 2);
    expect(parseSize("1.5GB")).toBe(1.5e9);
    expect(parseSize("64\nMiB")).toBeUndefined();
    expect(parseRate("400 MB/s")).toBe(400e6);
    expect(parseDuration("500ms")).toBe(0.5);
    expect(parsePercent("2%")).toBe(0.02);
    expect(parseSize(Number.POSITIVE_INFINITY)).toBeUndefined();
    expect(formatSize(64 * 1024 ** 2)).toBe("64.0 MiB");
  });
});

function parseAny(name: string, v: string): number | undefined {
  const parsers: Record<string, (v: string) => number | undefined> = {
    size: parseSize,
    rate: parseRate,
    duration: parseDuration,
    count: parseCount,
  };
  if (parsers[name]) return parsers[name](v);
  return new RegExp(SYNTAX[name as keyof typeof SYNTAX].pattern).test(v) ? 1 : undefined;
}
