// Loads a budget file: parse (comments allowed), validate against the JSON Schema, resolve units
// and defaults into a Plan. Every problem names the file, the JSON pointer, the line and the fix.
import { dirname, resolve } from "node:path";
import type { ErrorObject } from "ajv";
import { closest, distance } from "fastest-levenshtein";
import {
  findNodeAtLocation,
  getNodeValue,
  type Node as JsonNode,
  type ParseError,
  parseTree,
  printParseErrorCode,
} from "jsonc-parser";
import { BudgetFileError, type Problem } from "../model/errors.js";
import { sha256Hex } from "../model/hash.js";
import { BUDGET_KEYS, METRICS, type MetricKey } from "../model/metrics.js";
import { displayPath } from "../model/paths.js";
import type { SitesMode } from "../model/sites.js";
import type { TestMetricKey } from "../model/tests.js";
import { parseIn, SYNTAX, SYNTAX_OF_UNIT, type Syntax } from "../model/units.js";
import { type LoadInput, loadPlanOf } from "./load-block.js";
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
  // The digest lets the shards of one run prove they measured the same budget file. It is worked
  // out when first read (runPlan does so while the first workload runs): node:crypto costs a start
  // ~4 ms to load.
  const plan = parsePlan(read.text, display, absolute);
  let digest: string | undefined;
  Object.defineProperty(plan, "digest", {
    enumerable: true,
    get: () => (digest ??= `sha256:${sha256Hex([read.bytes])}`),
  });
  return plan;
}

/** Validates budget-file text; `absolute` anchors relative cwd paths. */
export function parsePlan(text: string, display: string, absolute: string): Plan {
  const lines = lineStarts(text);
  const place = (p: Unplaced): Problem => {
    const { offset, ...rest } = p;
    return { ...rest, ...position(lines, offset) };
  };
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
    if (s.timeout <= 0) {
      const at = locate(root, ["scenarios", s.name, "timeout"], lines);
      problems.push({
        pointer: pointerOf(["scenarios", s.name, "timeout"]),
        ...at,
        message: "timeout must be above 0",
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

/** The syntax of the value at a JSON path of the budget file, when it is one of the units. */
function syntaxAt(path: string[]): Syntax | undefined {
  const last = path.at(-1) ?? "";
  const inBudget = path.at(-2) === "budget" || path.at(-3) === "tests";
  if (inBudget && (BUDGET_KEYS as readonly string[]).includes(last)) {
    return SYNTAX_OF_UNIT[METRICS[last as MetricKey].unit];
  }
  if (last === "timeout" || last === "readyTimeout" || last === "grace") return "duration";
  if (last === "requests" && path.at(-2) === "load") return "count";
  if (last === "tolerance") return "percent";
  return undefined;
}

/** The accepted forms for the value at a JSON path, by what the value measures. */
function formsFor(path: string[]): { what: string; forms: string } | undefined {
  const syntax = syntaxAt(path);
  return syntax ? SYNTAX[syntax] : undefined;
}

function schemaProblems(errors: ErrorObject[], root: JsonNode, lines: number[], text: string): Problem[] {
  const problems: Problem[] = [];
  const seen = new Set<string>();
  // anyOf branches produce one error each; the anyOf error itself carries the whole story.
  const anyOfPaths = new Set(errors.filter((e) => e.keyword === "anyOf").map((e) => e.instancePath));
  for (const e of errors) {
    if (anyOfPaths.has(e.instancePath) && e.keyword !== "anyOf") continue;
    const path = splitPointer(e.instancePath);
    const problem = describe(e, path, root, lines, text);
    const id = `${problem.pointer}\u0000${problem.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    problems.push(problem);
  }
  return problems.sort((a, b) => a.line - b.line || a.column - b.column);
}

function describe(e: ErrorObject, path: string[], root: JsonNode, lines: number[], text: string): Problem {
  const pointer = e.instancePath;
  const at = locate(root, path, lines);
  const shown = shownAt(root, path, text, e.data);
  // propertyNames: ajv reports the pattern at the object; the problem is the key.
  const badName =
    e.propertyName ??
    (e.keyword === "propertyNames" ? (e.params as { propertyName?: string }).propertyName : undefined);
  if (badName !== undefined) {
    const name = JSON.stringify(badName);
    return {
      pointer: pointerOf([...path, badName]),
      ...locate(root, [...path, badName], lines, true),
      message: `scenario name ${name.length > 60 ? `${name.slice(0, 40)}…" (${badName.length} characters)` : name} is not allowed`,
      fix: SCENARIO_NAME_FIX,
    };
  }
  switch (e.keyword) {
    case "additionalProperties": {
      const key = String((e.params as { additionalProperty: string }).additionalProperty);
      const allowed = Object.keys((e.parentSchema as { properties?: object }).properties ?? {});
      const suggestion = suggest(key, allowed);
      return {
        pointer: pointerOf([...path, key]),
        ...locate(root, [...path, key], lines, true),
        message: `unknown key "${key}"`,
        fix: suggestion
          ? `did you mean "${suggestion}"? (allowed here: ${allowed.join(", ")})`
          : `remove it; allowed here: ${allowed.join(", ")}`,
      };
    }
    case "required": {
      const missing = String((e.params as { missingProperty: string }).missingProperty);
      const fix =
        missing === "run"
          ? `add "run": the command that runs the workload, e.g. "run": "python bench/load.py"`
          : `add "${missing}"`;
      return { pointer, ...at, message: `missing required key "${missing}"`, fix };
    }
    case "anyOf":
    case "pattern":
    case "type": {
      const forms = formsFor(path);
      const syntax = syntaxAt(path);
      // A number is the base unit: one past the bound (or past what a double holds, 1e309) is out of range.
      if (syntax && typeof e.data === "number" && !(e.data <= SYNTAX[syntax].max) && e.data >= 0) {
        const { what, maxText } = SYNTAX[syntax];
        return {
          pointer,
          ...at,
          message: `${shown} is more than the largest ${what.replace(/^an? /, "")} membudget accepts here, ${maxText}`,
          fix: `write ${what} of at most ${maxText}`,
        };
      }
      if (forms)
        return { pointer, ...at, message: `${shown} is not ${forms.what}`, fix: `use ${forms.forms}` };
      if (e.keyword === "pattern" && path.length === 2 && path[0] === "scenarios") {
        return {
          pointer,
          ...at,
          message: `scenario name ${JSON.stringify(path[1])} is not allowed`,
          fix: SCENARIO_NAME_FIX,
        };
      }
      const type = (e.params as { type?: string }).type;
      return {
        pointer,
        ...at,
        message: `${shown} must be ${type ? `${anA(type)} ${type}` : `valid (${e.message})`}`,
        fix: type ? `write ${anA(type)} ${type} here` : SEE_SCHEMA,
      };
    }
    case "propertyNames": {
      return {
        pointer,
        ...at,
        message: `invalid scenario name ${e.params && JSON.stringify((e.params as { propertyName?: string }).propertyName)}`,
        fix: SCENARIO_NAME_FIX,
      };
    }
    case "enum": {
      const allowed = (e.params as { allowedValues: unknown[] }).allowedValues.map(String);
      const s = typeof e.data === "string" ? suggest(e.data, allowed) : undefined;
      return {
        pointer,
        ...at,
        message: `${shown} is not one of ${allowed.join(", ")}`,
        fix: s ? `did you mean "${s}"?` : `use one of ${allowed.join(", ")}`,
      };
    }
    case "minProperties": {
      const what =
        path.at(-1) === "budget" ? "a budget needs at least one metric" : "needs at least one entry";
      return {
        pointer,
        ...at,
        message: `${path.at(-1) ?? "the file"} is empty: ${what}`,
        fix:
          path.at(-1) === "budget"
            ? `e.g. "budget": { "peakHeap": "64 MiB" }, or remove "budget"`
            : `add a scenario, e.g. "scenarios": { "load": { "run": "python bench/load.py" } }`,
      };
    }
    case "minimum":
    case "maximum": {
      const { minimum, maximum } = e.parentSchema as { minimum?: number; maximum?: number };
      return {
        pointer,
        ...at,
        message: `${shown} ${e.message ?? "is out of range"}`,
        fix: `use a number from ${minimum ?? "-∞"} to ${maximum ?? "∞"}`,
      };
    }
    case "minLength":
      return {
        pointer,
        ...at,
        message: `${shown} ${e.message ?? "is too short"}`,
        fix: "write a non-empty string",
      };
    case "const": {
      const allowed = JSON.stringify((e.params as { allowedValue: unknown }).allowedValue);
      return {
        pointer,
        ...at,
        message: `${shown} must be ${allowed}`,
        fix: `write ${allowed}, or leave it out`,
      };
    }
    default:
      return { pointer, ...at, message: e.message ?? `invalid (${e.keyword})`, fix: SEE_SCHEMA };
  }
}

/**
 * The value as written in the file (1e309, not the Infinity it parses to, nor the null
 * JSON.stringify makes of that), cut short: a message quotes a value, not 50 MB of digits.
 */
function shownAt(root: JsonNode, path: string[], text: string, data: unknown): string {
  const node = findNodeAtLocation(root, path);
  const written = node ? text.slice(node.offset, node.offset + node.length) : JSON.stringify(data);
  const flat = written.replace(/\s+/g, " ");
  return flat.length > 60 ? `${flat.slice(0, 40)}… (${written.length} characters)` : flat;
}

const anA = (word: string) => (/^[aeiou]/.test(word) ? "an" : "a");

const SCENARIO_NAME_FIX =
  "start with a letter or digit; use letters, digits, spaces and . _ : / - (at most 100 characters)";
const SEE_SCHEMA = "see docs/budget-file.md for what goes here";

/** A close spelling among the allowed keys, or undefined when nothing is close. */
export function suggest(word: string, allowed: string[]): string | undefined {
  if (allowed.length === 0) return undefined;
  const folded = allowed.find((a) => a.toLowerCase() === word.toLowerCase());
  if (folded) return folded;
  const best = closest(word, allowed);
  return distance(word, best) <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function splitPointer(pointer: string): string[] {
  if (pointer === "") return [];
  return pointer
    .slice(1)
    .split("/")
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
}

export function pointerOf(path: string[]): string {
  return path.map((p) => `/${p.replace(/~/g, "~0").replace(/\//g, "~1")}`).join("");
}

function locate(
  root: JsonNode,
  path: string[],
  lines: number[],
  key = false,
): { line: number; column: number } {
  let node = findNodeAtLocation(root, path);
  if (node && key && node.parent?.type === "property") node = node.parent;
  // Fall back to the nearest existing ancestor.
  for (let n = path.length - 1; !node && n >= 0; n--) node = findNodeAtLocation(root, path.slice(0, n));
  return position(lines, node?.offset ?? 0);
}

function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

function position(starts: number[], offset: number): { line: number; column: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - starts[lo]! + 1 };
}
