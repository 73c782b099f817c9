// What is wrong with a budget file, in words a person can act on: each schema error as a problem
// with its JSON pointer, line and column, the value as written, the accepted forms and the fix.
import type { ErrorObject } from "ajv";
import { closest, distance } from "fastest-levenshtein";
import type { Node as JsonNode } from "jsonc-parser";
import type { Problem } from "../model/errors.js";
import { BUDGET_KEYS, METRICS, type MetricKey } from "../model/metrics.js";
import { SYNTAX, SYNTAX_OF_UNIT, type Syntax } from "../model/units.js";

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

export function schemaProblems(
  errors: ErrorObject[],
  root: JsonNode,
  lines: number[],
  text: string,
): Problem[] {
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
  if (badName !== undefined && path.at(-1) === "env") {
    return {
      pointer: pointerOf([...path, badName]),
      ...locate(root, [...path, badName], lines, true),
      message: `environment variable name ${JSON.stringify(badName).slice(0, 80)} is not allowed`,
      fix: "use a name that is not empty and has no =, NUL or line break (e.g. MY_SETTING)",
    };
  }
  if (typeof e.data === "string" && e.data.includes("\u0000")) {
    return {
      pointer,
      ...at,
      message: `${shown} holds a NUL character, which no command, path or environment variable can hold`,
      fix: "remove it",
    };
  }
  if (e.keyword === "maxLength" && path.at(-2) === "env") {
    return {
      pointer,
      ...at,
      message: `the value of ${path.at(-1)} is ${(e.data as string).length} characters: more than one environment variable can hold (128 KiB)`,
      fix: "pass large data in a file the workload reads",
    };
  }
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
  const node = nodeAt(root, path);
  // Only the start is flattened: a message per key of a 70,000-key object must not copy it each time.
  const length = node ? node.length : (JSON.stringify(data) ?? "").length;
  const written = node
    ? text.slice(node.offset, node.offset + Math.min(node.length, 200))
    : JSON.stringify(data);
  const flat = written.slice(0, 200).replace(/\s+/g, " ");
  return flat.length > 60 || length > 200 ? `${flat.slice(0, 40)}… (${length} characters)` : flat;
}

const anA = (word: string) => (/^[aeiou]/.test(word) ? "an" : "a");

const SCENARIO_NAME_FIX =
  "start with a letter or digit; use letters, digits, spaces and . _ : / - (at most 100 characters, not ending with a space)";
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

export function locate(
  root: JsonNode,
  path: string[],
  lines: number[],
  key = false,
): { line: number; column: number } {
  let node = nodeAt(root, path);
  if (node && key && node.parent?.type === "property") node = node.parent;
  // Fall back to the nearest existing ancestor.
  for (let n = path.length - 1; !node && n >= 0; n--) node = nodeAt(root, path.slice(0, n));
  return position(lines, node?.offset ?? 0);
}

const nodeIndexes = new WeakMap<JsonNode, Map<string, JsonNode>>();

/**
 * The value at `path`, as findNodeAtLocation finds it (the first of duplicate keys), from an index
 * of every value by its pointer built once per file: findNodeAtLocation scans an object's keys
 * on every call, which made a file of 70,000 unknown keys take minutes to report.
 */
function nodeAt(root: JsonNode, path: string[]): JsonNode | undefined {
  let index = nodeIndexes.get(root);
  if (!index) {
    index = new Map();
    const stack: [JsonNode, string][] = [[root, ""]];
    while (stack.length > 0) {
      const [node, pointer] = stack.pop()!;
      if (index.has(pointer)) continue;
      index.set(pointer, node);
      const children = node.children ?? [];
      if (node.type === "object") {
        for (let i = children.length - 1; i >= 0; i--) {
          const [key, value] = children[i]!.children ?? [];
          if (key && value && typeof key.value === "string")
            stack.push([value, `${pointer}${pointerOf([key.value])}`]);
        }
      } else if (node.type === "array") {
        for (let i = children.length - 1; i >= 0; i--) stack.push([children[i]!, `${pointer}/${i}`]);
      }
    }
    nodeIndexes.set(root, index);
  }
  return index.get(pointerOf(path));
}

export function lineStarts(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  return starts;
}

export function position(starts: number[], offset: number): { line: number; column: number } {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - starts[lo]! + 1 };
}
