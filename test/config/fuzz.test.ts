// A property-based fuzzer over the budget-file loader: every file it makes is either a Plan with
// finite, bounded numbers, or a BudgetFileError (exit 2) whose every problem has a pointer, a line
// in the file and a fix; never another exception, a hang, or an accepted non-finite value.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { exitCodeForError } from "../../src/cli/exit.js";
import { parsePlan } from "../../src/config/plan.js";
import { BudgetFileError } from "../../src/model/errors.js";
import { BUDGET_KEYS } from "../../src/model/metrics.js";
import { SYNTAX } from "../../src/model/units.js";

/** A JSON value as text, so that literals JSON.stringify cannot make (1e309, -0, 1E+400) can be in it. */
type Json = { raw: string } | { obj: [string, Json][] } | { arr: Json[] };

const text = (j: Json): string =>
  "raw" in j
    ? j.raw
    : "obj" in j
      ? `{${j.obj.map(([k, v]) => `${JSON.stringify(k)}: ${text(v)}`).join(", ")}}`
      : `[${j.arr.map(text).join(", ")}]`;

const raw = (s: string): Json => ({ raw: s });
const str = (s: string): Json => raw(JSON.stringify(s));

/** Numbers at the edges: huge, tiny, negative, non-finite once parsed, and ordinary. */
const number = fc.oneof(
  fc.constantFrom(
    "0",
    "-0",
    "1",
    "-1",
    "1e309",
    "-1e309",
    "1e308",
    "3e9",
    "2147483648",
    "1E+400",
    "0.5",
    "1e-400",
    "86400",
    "86401",
    "1000",
    "1001",
    "100",
    "101",
    "1125899906842624",
    "1125899906842625",
  ),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
  fc.integer().map(String),
  fc.stringMatching(/^-?\d{1,400}(\.\d{1,5})?([eE][+-]?\d{1,4})?$/),
);

/** Strings near the unit syntaxes, with the mistakes people (and attackers) make. */
const unitString = fc
  .tuple(
    fc.oneof(
      fc.stringMatching(/^\d{1,30}(\.\d{0,3})?$/),
      fc.constantFrom("", ".5", "1e3", "-5", "Infinity", "NaN", "0x10"),
    ),
    fc.constantFrom("", " ", "\t", "\n", "\r\n", "\u00a0"),
    fc.constantFrom(
      "",
      "B",
      "KiB",
      "MiB",
      "GiB",
      "PiB",
      "EiB",
      "kb",
      "MB/s",
      "MiB/s",
      "ms",
      "s",
      "m",
      "min",
      "h",
      "d",
      "%",
      "k",
      "M",
      "G",
      "megs",
    ),
    fc.constantFrom("", " ", "\n", "/s"),
  )
  .map(([n, gap, suffix, tail]) => `${n}${gap}${suffix}${tail}`);

const anyString = fc.oneof(
  unitString,
  fc.string({ maxLength: 20 }),
  fc.string({ unit: "binary", maxLength: 10 }),
);

const leaf: fc.Arbitrary<Json> = fc.oneof(
  { weight: 3, arbitrary: anyString.map(str) },
  { weight: 3, arbitrary: number.map(raw) },
  { weight: 1, arbitrary: fc.constantFrom("true", "false", "null").map(raw) },
);

/** Any JSON at all, a few levels deep, for the places where a value of the wrong shape goes. */
const anyJson: fc.Arbitrary<Json> = fc.letrec<{ v: Json }>((tie) => ({
  v: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    fc.array(tie("v"), { maxLength: 3 }).map((arr) => ({ arr })),
    fc.array(fc.tuple(fc.string({ maxLength: 6 }), tie("v")), { maxLength: 3 }).map((obj) => ({ obj })),
  ),
})).v;

const value = fc.oneof({ weight: 4, arbitrary: leaf }, { weight: 1, arbitrary: anyJson });

/** Mostly a value of the right kind for the key (so that many files are valid), sometimes anything. */
const typed = (good: fc.Arbitrary<Json>) =>
  fc.oneof({ weight: 15, arbitrary: good }, { weight: 1, arbitrary: value });
const sizeLike = fc.oneof(
  fc.nat().map((n) => raw(String(n))),
  fc
    .tuple(
      fc.integer({ min: 0, max: 4096 }),
      fc.constantFrom("", " ", "  "),
      fc.constantFrom("B", "KiB", "MiB", "GiB", "kB", "MB", "GB", "PiB"),
    )
    .map(([n, g, u]) => str(`${n}${g}${u}`)),
);
const GOOD: Record<string, fc.Arbitrary<Json>> = {
  timeout: fc.oneof(
    fc.integer({ min: 1, max: 90_000 }).map((n) => raw(String(n))),
    fc
      .tuple(fc.integer({ min: 1, max: 30 }), fc.constantFrom("ms", "s", "m", "min", "h", " s"))
      .map(([n, u]) => str(`${n}${u}`)),
  ),
  tolerance: fc.oneof(
    fc.integer({ min: 0, max: 1100 }).map((n) => raw(String(n))),
    fc.integer({ min: 0, max: 1100 }).map((n) => str(`${n}%`)),
  ),
  repeat: fc.integer({ min: 0, max: 101 }).map((n) => raw(String(n))),
  sites: fc.constantFrom('"auto"', '"always"', '"never"', "true", "false", '"sometimes"').map(raw),
  runtime: fc.constantFrom("python", "node", "native", "ruby").map(str),
  description: fc.string({ maxLength: 20 }).map(str),
  cwd: fc.constantFrom(".", "sub", "../x").map(str),
  env: fc
    .array(fc.tuple(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }).map(str)), { maxLength: 2 })
    .map((obj) => ({ obj })),
  peakHeap: sizeLike,
  peakRss: sizeLike,
  allocated: sizeLike,
  peakExternal: sizeLike,
  allocations: fc.oneof(
    fc.nat().map((n) => raw(String(n))),
    fc
      .tuple(fc.integer({ min: 0, max: 999 }), fc.constantFrom("", "k", "M", "G"))
      .map(([n, u]) => str(`${n}${u}`)),
  ),
  gcCollections: fc.nat({ max: 10_000 }).map((n) => raw(String(n))),
  gcPause: fc
    .tuple(fc.integer({ min: 0, max: 999 }), fc.constantFrom("ms", "s"))
    .map(([n, u]) => str(`${n}${u}`)),
  wallTime: fc
    .tuple(fc.integer({ min: 0, max: 999 }), fc.constantFrom("ms", "s", "m"))
    .map(([n, u]) => str(`${n}${u}`)),
  allocationRate: fc
    .tuple(fc.integer({ min: 0, max: 999 }), fc.constantFrom("MB/s", "MiB/s", "kB/s"))
    .map(([n, u]) => str(`${n} ${u}`)),
};
const keyed = (keys: fc.Arbitrary<string>) =>
  keys.chain((k) => (GOOD[k] ? typed(GOOD[k]) : value).map((v): [string, Json] => [k, v]));

const budgetKey = fc.oneof(
  { weight: 20, arbitrary: fc.constantFrom(...BUDGET_KEYS) },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
);
const settingKey = fc.oneof(
  {
    weight: 20,
    arbitrary: fc.constantFrom(
      "timeout",
      "tolerance",
      "repeat",
      "sites",
      "cwd",
      "runtime",
      "description",
      "env",
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }) },
);

/** Keys may repeat on purpose: a duplicate is a problem, not last-wins. */
const entries = (key: fc.Arbitrary<string>, max: number, minLength = 0) =>
  fc.oneof(
    { weight: 8, arbitrary: fc.uniqueArray(keyed(key), { minLength, maxLength: max, selector: ([k]) => k }) },
    { weight: 1, arbitrary: fc.array(keyed(key), { minLength, maxLength: max }) },
  );

const scenarioBody: fc.Arbitrary<Json> = fc
  .tuple(
    fc.option(fc.oneof({ weight: 8, arbitrary: fc.constant(str("true")) }, { weight: 1, arbitrary: value }), {
      freq: 10,
    }),
    entries(
      settingKey.filter((k) => k !== "env" && k !== "cwd"),
      3,
    ),
    fc.option(entries(budgetKey, 3, 1)),
  )
  .map(([run, settings, budget]) => ({
    obj: [
      ...(run ? ([["run", run]] as [string, Json][]) : []),
      ...settings,
      ...(budget ? ([["budget", { obj: budget }]] as [string, Json][]) : []),
    ],
  }));

const scenarioName = fc.oneof(
  { weight: 20, arbitrary: fc.stringMatching(/^[a-z][a-z0-9 _.-]{0,8}$/) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.constant("x".repeat(101)) },
);

const budgetFile: fc.Arbitrary<Json> = fc
  .tuple(
    fc.option(
      entries(
        settingKey.filter((k) => k !== "runtime" && k !== "cwd" && k !== "description"),
        3,
      ),
    ),
    fc.oneof(
      {
        weight: 8,
        arbitrary: fc
          .uniqueArray(fc.tuple(scenarioName, scenarioBody), {
            minLength: 1,
            maxLength: 3,
            selector: ([k]) => k,
          })
          .map((obj) => ({ obj })),
      },
      { weight: 1, arbitrary: value },
    ),
    // Rarely a top-level key of its own (fc.option makes nil 1 in freq times, hence the oneof).
    fc.oneof(
      { weight: 8, arbitrary: fc.constant(null) },
      { weight: 1, arbitrary: fc.tuple(fc.constantFrom("$schema", "version", "scenario", "default"), value) },
    ),
  )
  .map(([defaults, scenarios, extra]) => ({
    obj: [
      ...(defaults ? ([["defaults", { obj: defaults }]] as [string, Json][]) : []),
      ["scenarios", scenarios],
      ...(extra ? [extra] : []),
    ],
  }));

/** The text, sometimes damaged: cut short, a character dropped or added, a comment, deep nesting. */
const fileText = fc
  .tuple(
    budgetFile.map(text),
    fc.oneof(
      { weight: 20, arbitrary: fc.constant((t: string) => t) },
      { weight: 1, arbitrary: fc.nat().map((n) => (t: string) => t.slice(0, n % (t.length + 1))) },
      {
        weight: 1,
        arbitrary: fc.tuple(fc.nat(), fc.string({ minLength: 1, maxLength: 2 })).map(
          ([n, c]) =>
            (t: string) =>
              t.slice(0, n % (t.length + 1)) + c + t.slice(n % (t.length + 1)),
        ),
      },
      {
        weight: 1,
        arbitrary: fc
          .nat()
          .map((n) => (t: string) => t.slice(0, n % (t.length + 1)) + t.slice((n % (t.length + 1)) + 1)),
      },
      {
        weight: 1,
        arbitrary: fc.constant((t: string) => `// a comment\n${t.replace(/, /g, ",\n /* here */ ")}`),
      },
      {
        weight: 1,
        arbitrary: fc
          .integer({ min: 60, max: 5000 })
          .map(
            (n) => (t: string) =>
              t.replace('"scenarios": ', `"scenarios": ${"[".repeat(n)}${"]".repeat(n)}, "x": `),
          ),
      },
    ),
  )
  .map(([t, damage]) => damage(t));

/** Node's timers hold at most 2³¹−1 ms: a longer timeout fires at once. */
const TIMER_MAX_SECONDS = (2 ** 31 - 1) / 1000;

function check(t: string): void {
  const lineCount = t.split("\n").length;
  let plan: ReturnType<typeof parsePlan>;
  try {
    plan = parsePlan(t, "membudget.json", "/fuzz/membudget.json");
  } catch (err) {
    if (!(err instanceof BudgetFileError))
      throw new Error(`not a BudgetFileError for ${JSON.stringify(t)}: ${(err as Error)?.stack}`);
    expect(exitCodeForErrorQuietly(err)).toBe(2);
    expect(err.file).toBe("membudget.json");
    expect(err.problems.length).toBeGreaterThan(0);
    for (const p of err.problems) {
      expect(typeof p.pointer).toBe("string");
      expect(p.pointer === "" || p.pointer.startsWith("/")).toBe(true);
      expect(p.line, JSON.stringify(p)).toBeGreaterThanOrEqual(1);
      expect(p.line, JSON.stringify(p)).toBeLessThanOrEqual(lineCount);
      expect(p.column).toBeGreaterThanOrEqual(1);
      expect(p.fix, `no fix: ${JSON.stringify(p)} for ${JSON.stringify(t)}`).toMatch(/\S/);
      // Only the file's own words: no Infinity or NaN that membudget made of a number.
      for (const word of ["Infinity", "NaN", "undefined", "[object"])
        if (!t.includes(word)) expect(p.message, JSON.stringify(p)).not.toContain(word);
      expect(p.message.length).toBeLessThan(400);
    }
    return;
  }
  for (const s of plan.scenarios) {
    expect(Number.isFinite(s.timeout) && s.timeout > 0 && s.timeout <= SYNTAX.duration.max).toBe(true);
    expect(s.timeout).toBeLessThan(TIMER_MAX_SECONDS);
    expect(Number.isFinite(s.tolerance) && s.tolerance >= 0 && s.tolerance <= SYNTAX.percent.max / 100).toBe(
      true,
    );
    expect(Number.isInteger(s.repeat) && s.repeat >= 1 && s.repeat <= 100).toBe(true);
    expect(typeof s.run).toBe("string");
    for (const [metric, v] of Object.entries(s.budget)) {
      expect(Number.isFinite(v), `${metric}=${v} in ${JSON.stringify(t)}`).toBe(true);
      expect(v).toBeGreaterThanOrEqual(0);
    }
  }
}

/** exitCodeForError prints the message; the fuzzer only wants the status. */
function exitCodeForErrorQuietly(err: unknown): number {
  const write = process.stderr.write;
  process.stderr.write = () => true;
  try {
    return exitCodeForError(err);
  } finally {
    process.stderr.write = write;
  }
}

describe("budget-file loader under fuzzing", () => {
  it("every generated file is a sound Plan or a located exit 2", () => {
    // Seeded: the same files on every run (a failure prints its seed and path to replay it).
    fc.assert(fc.property(fileText, check), {
      seed: 20_261_210,
      numRuns: 1200,
      interruptAfterTimeLimit: 15_000,
    });
  });

  it("makes both outcomes (a fuzzer that only ever fails the parse proves little)", () => {
    const outcomes = { valid: 0, invalid: 0 };
    fc.assert(
      fc.property(fileText, (t) => {
        try {
          parsePlan(t, "membudget.json", "/fuzz/membudget.json");
          outcomes.valid++;
        } catch {
          outcomes.invalid++;
        }
      }),
      { seed: 20_261_210, numRuns: 1500 },
    );
    expect(outcomes.valid).toBeGreaterThan(30);
    expect(outcomes.invalid).toBeGreaterThan(300);
  });
});
