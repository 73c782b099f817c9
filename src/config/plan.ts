// Reads a budget file into a Plan: parse (comments allowed), validate against the JSON Schema,
// resolve units and defaults. Every problem names the file, the JSON pointer, the line and the fix
// (the wording is problems.ts's).
import { dirname, resolve } from "node:path";
import type { ErrorObject } from "ajv";
import {
  getNodeValue,
  type Node as JsonNode,
  type ParseError,
  parseTree,
  printParseErrorCode,
} from "jsonc-parser";
import { BudgetFileError, type Problem } from "../model/errors.js";
import { sha256Hex } from "../model/hash.js";
import { METRICS, type MetricKey } from "../model/metrics.js";
import { displayPath } from "../model/paths.js";
import type { TestMetricKey } from "../model/pytest.js";
import type { SitesMode } from "../model/sites.js";
import { parseExact, parseIn, SYNTAX, SYNTAX_OF_UNIT, type Syntax } from "../model/units.js";
import { type LoadInput, loadPlanOf } from "./load-block.js";
import { lineStarts, locate, pointerOf, position, schemaProblems } from "./problems.js";
import { duplicateKeys, readBudgetText, tooDeep, type Unplaced } from "./read.js";
import { inferRuntime } from "./runtime.js";
import type { Plan, Scenario, TestRule } from "./types.js";
import { budgetValidator, type Validator } from "./validator.js";

export const DEFAULTS = {
  repeat: 3,
  timeout: 300,
  tolerance: 0.02,
  sites: "auto",
  cleanRun: "auto",
} as const;

let validator: Validator | undefined;
function validate(data: unknown): ErrorObject[] {
  validator ??= budgetValidator();
  const ok = validator(data);
  return ok ? [] : (validator.errors ?? []);
}

/** Reads and validates a budget file; throws BudgetFileError listing every problem. */
export function loadPlan(file: string, cwd = process.cwd()): Plan {
  const absolute = resolve(cwd, file);
  const display = displayPath(absolute, cwd);
  const read = readBudgetText(absolute);
  if (!("text" in read)) {
    throw new BudgetFileError(display, [
      {
        pointer: "",
        line: 1,
        column: 1,
        message: `cannot read the budget file (${read.code})`,
        fix: read.fix,
      },
    ]);
  }
  // The digest lets the shards of one run prove they measured the same budget file.
  return { ...parsePlan(read.text, display, absolute), digest: `sha256:${sha256Hex([read.bytes])}` };
}

/** Validates budget-file text; `absolute` anchors relative cwd paths. */
export function parsePlan(text: string, display: string, absolute: string): Plan {
  const lines = lineStarts(text);
  const place = (p: Unplaced): Problem => {
    const { offset, ...rest } = p;
    return { ...rest, ...position(lines, offset) };
  };
  if (text.startsWith("\ufeff")) {
    throw new BudgetFileError(display, [
      {
        pointer: "",
        line: 1,
        column: 1,
        message: "the file starts with a byte order mark (U+FEFF), which JSON does not allow",
        fix: "save it as UTF-8 without a BOM (your editor's encoding setting)",
      },
    ]);
  }
  const deep = tooDeep(text);
  if (deep) throw new BudgetFileError(display, [place(deep)]);
  const errors: ParseError[] = [];
  const root = parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length > 0 || !root) {
    const found: { offset: number; what: string }[] = errors.map((e) => ({
      offset: e.offset,
      what: printParseErrorCode(e.error),
    }));
    if (found.length === 0) found.push({ offset: 0, what: "the file is empty" });
    throw new BudgetFileError(
      display,
      found.map((e) => ({
        pointer: "",
        ...position(lines, e.offset),
        message: `not valid JSON: ${e.what}`,
        fix: "budget files are JSON (comments and trailing commas are allowed)",
      })),
    );
  }
  const twice = duplicateKeys(root, pointerOf, (offset) => {
    const { line, column } = position(lines, offset);
    return `line ${line}, column ${column}`;
  });
  if (twice.length > 0) throw new BudgetFileError(display, twice.map(place));
  const data = getNodeValue(root) as unknown;
  const problems = schemaProblems(validate(data), root, lines, text);
  if (problems.length > 0) {
    // The rules the schema cannot say (a load block's URLs, its rounds) are checked too, so that
    // one pass names every problem; those at or under a place the schema already faults are left out.
    const more = rulesProblems(data as BudgetFile, root, lines, absolute, display).filter(
      (p) => !problems.some((q) => p.pointer === q.pointer || p.pointer.startsWith(`${q.pointer}/`)),
    );
    throw new BudgetFileError(
      display,
      [...problems, ...more].sort((a, b) => a.line - b.line || a.column - b.column),
    );
  }
  return toPlan(data as BudgetFile, root, lines, absolute, display);
}

/** The problems toPlan finds in a file the schema rejected: none when its shape is too far off to look. */
function rulesProblems(
  data: BudgetFile,
  root: JsonNode,
  lines: number[],
  absolute: string,
  display: string,
): Problem[] {
  try {
    toPlan(data, root, lines, absolute, display);
  } catch (err) {
    if (err instanceof BudgetFileError) return err.problems;
  }
  return [];
}

interface BudgetFile {
  defaults?: Partial<ScenarioInput>;
  scenarios: Record<string, ScenarioInput>;
}
interface ScenarioInput {
  description?: string;
  run: string;
  runtime?: Scenario["runtime"];
  cwd?: string;
  env?: Record<string, string>;
  timeout?: number | string;
  repeat?: number;
  tolerance?: number | string;
  sites?: SitesMode | boolean;
  cleanRun?: Scenario["cleanRun"];
  budget?: Partial<Record<MetricKey, number | string>>;
  tests?: Record<string, Partial<Record<TestMetricKey, number | string>>>;
  load?: LoadInput;
}

function toPlan(data: BudgetFile, root: JsonNode, lines: number[], absolute: string, display: string): Plan {
  const defaults = data.defaults ?? {};
  const problems: Problem[] = [];
  /** A unit value in its base unit; a value past the unit's bound is a problem (and NaN stands in). */
  const valueAt = (path: string[], raw: number | string, syntax: Syntax): number => {
    const value = parseIn(syntax, raw);
    const { max, maxText, what } = SYNTAX[syntax];
    // Rounding would change what was written: 2.5 collections, half a byte, 5e-324 bytes.
    const exact = parseExact(syntax, raw);
    const odd =
      exact === undefined || exact > max
        ? undefined
        : syntax === "count" && !Number.isInteger(exact)
          ? { message: "is not a whole count", fix: "write a whole number, e.g. 3, 250k or 1.5M" }
          : syntax === "size" && exact > 0 && exact < 1
            ? { message: "is less than one byte", fix: "write 0 or a size of at least 1 B" }
            : undefined;
    if (odd) {
      problems.push({
        pointer: pointerOf(path),
        ...locate(root, path, lines),
        message: `${JSON.stringify(raw).slice(0, 60)} ${odd.message}`,
        fix: odd.fix,
      });
      return Number.NaN;
    }
    if (value !== undefined && value <= max) return syntax === "percent" ? value / 100 : value;
    const shown = JSON.stringify(raw);
    problems.push({
      pointer: pointerOf(path),
      ...locate(root, path, lines),
      message: `${shown.length > 60 ? `${shown.slice(0, 40)}…" (${shown.length} characters)` : shown} is more than the largest ${what.replace(/^an? /, "")} membudget accepts here, ${maxText}`,
      fix: `write ${what} of at most ${maxText}`,
    });
    return Number.NaN;
  };
  const setting = (name: string, key: "timeout" | "tolerance", syntax: Syntax, fallback: number | string) => {
    const own = data.scenarios[name]?.[key];
    if (own !== undefined) return valueAt(["scenarios", name, key], own, syntax);
    const inherited = defaults[key];
    if (inherited !== undefined) return valueAt(["defaults", key], inherited, syntax);
    return valueAt([], fallback, syntax);
  };
  const scenarios = Object.entries(data.scenarios).map(([name, s]): Scenario => {
    const path = ["scenarios", name];
    const budget: Scenario["budget"] = {};
    const budgetLines: Scenario["source"]["budgetLines"] = {};
    for (const [key, raw] of Object.entries(s.budget ?? {})) {
      const metric = key as MetricKey;
      // An unknown key is the schema's problem (toPlan also looks at files the schema rejected).
      if (!METRICS[metric]) continue;
      const value = valueAt([...path, "budget", key], raw!, SYNTAX_OF_UNIT[METRICS[metric].unit]);
      budget[metric] = value;
      budgetLines[metric] = locate(root, [...path, "budget", key], lines).line;
    }
    const tests = Object.entries(s.tests ?? {}).map(([pattern, rule]): TestRule => {
      const budget: TestRule["budget"] = {};
      for (const [key, raw] of Object.entries(rule ?? {})) {
        const metric = key as TestMetricKey;
        if (!METRICS[metric]) continue;
        budget[metric] = valueAt(
          [...path, "tests", pattern, key],
          raw!,
          SYNTAX_OF_UNIT[METRICS[metric].unit],
        );
      }
      return { pattern, budget, line: locate(root, [...path, "tests", pattern], lines).line };
    });
    const cwd = resolve(dirname(absolute), s.cwd ?? ".");
    if (s.load?.readyTimeout !== undefined)
      valueAt([...path, "load", "readyTimeout"], s.load.readyTimeout, "duration");
    if (s.load?.grace !== undefined) valueAt([...path, "load", "grace"], s.load.grace, "duration");
    const load = loadPlanOf(s.load, s.budget ?? {}, (at, p) =>
      problems.push({ pointer: pointerOf([...path, ...at]), ...locate(root, [...path, ...at], lines), ...p }),
    );
    return {
      name,
      ...(s.description !== undefined ? { description: s.description } : {}),
      run: s.run,
      runtime: s.runtime ?? inferRuntime(s.run),
      cwd,
      env: { ...defaults.env, ...s.env },
      timeout: setting(name, "timeout", "duration", DEFAULTS.timeout),
      repeat: s.repeat ?? defaults.repeat ?? DEFAULTS.repeat,
      tolerance: setting(name, "tolerance", "percent", "2%"),
      sites: sitesMode(s.sites ?? defaults.sites ?? DEFAULTS.sites),
      cleanRun: s.cleanRun ?? defaults.cleanRun ?? DEFAULTS.cleanRun,
      budget,
      ...(tests.length > 0 ? { tests } : {}),
      ...(load ? { load } : {}),
      source: { line: locate(root, path, lines, true).line, budgetLines },
    };
  });
  for (const s of scenarios) {
    // NaN: past its bound, already a problem.
    // A timeout shorter than a process takes to start measures nothing (1e-9 s, "0.5ms").
    if (s.timeout < MIN_TIMEOUT) {
      const where =
        data.scenarios[s.name]?.timeout !== undefined
          ? ["scenarios", s.name, "timeout"]
          : ["defaults", "timeout"];
      problems.push({
        pointer: pointerOf(where),
        ...locate(root, where, lines),
        message: `timeout ${JSON.stringify(data.scenarios[s.name]?.timeout ?? defaults.timeout)} is shorter than ${MIN_TIMEOUT * 1000}ms`,
        fix: 'e.g. "timeout": "5m"',
      });
    }
  }
  if (problems.length > 0) throw new BudgetFileError(display, problems);
  return { file: absolute, scenarios };
}

/** true and false are the short forms of "always" and "never". */
function sitesMode(value: SitesMode | boolean): SitesMode {
  if (value === true) return "always";
  if (value === false) return "never";
  return value;
}

/** Seconds: the shortest timeout a run can do anything in. */
const MIN_TIMEOUT = 0.1;
