// `membudget init`: the scenarios a repository without a budget file starts with (its pytest suite,
// the commands the user names), and the first budget file's text once they were measured.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join, relative } from "node:path";
import type { MetricKey } from "../model/metrics.js";
import type { BudgetUpdate } from "./update.js";

/** A scenario `init` proposes: its name, its command, and where it came from (for the summary). */
export interface Draft {
  name: string;
  run: string;
  /** "a pytest suite (tests/)" or "the command line". */
  found: string;
  /** The whole suite is one long run whose heap figures are the same every time: one repeat. */
  repeat?: number;
  /** pytest: one per-test rule for every test ("*"), set from the largest test. */
  perTest?: boolean;
}

/** The metrics `init` budgets: the heap figures every probe gives, exact for Python and native programs. */
export const INIT_METRICS: readonly MetricKey[] = ["peakHeap", "allocated"];

/** A budget far above anything measured, in the draft only: the judgement then finds each rule's largest test. */
export const UNBOUNDED = 1024 ** 5;

const PYTEST_CONFIG: [file: string, section: RegExp][] = [
  ["pytest.ini", /^\s*\[pytest\]/m],
  ["pyproject.toml", /^\s*\[tool\.pytest\.ini_options\]/m],
  ["tox.ini", /^\s*\[pytest\]/m],
  ["setup.cfg", /^\s*\[tool:pytest\]/m],
];

/** The scenarios for `dir`: a pytest suite when it has one, and each command given, in that order. */
export function draftScenarios(dir: string, commands: readonly string[]): Draft[] {
  const drafts: Draft[] = [];
  const suite = pytestSuite(dir);
  if (suite) {
    const python = existsSync(join(dir, ".venv/bin/python")) ? ".venv/bin/python" : "python3";
    // No cache folder written into the project by a measurement; the paths of the config or the folder found.
    const run = `${python} -m pytest -q -p no:cacheprovider${suite.paths ? ` ${suite.paths}` : ""}`;
    drafts.push({ name: "pytest", run, found: `a pytest suite (${suite.found})`, repeat: 1, perTest: true });
  }
  for (const command of commands) {
    drafts.push({ name: uniqueName(scenarioName(command), drafts), run: command, found: "the command line" });
  }
  return drafts;
}

/** Where pytest's configuration or tests are: a config file's section, else a tests folder or root test files. */
function pytestSuite(dir: string): { found: string; paths?: string } | undefined {
  for (const [file, section] of PYTEST_CONFIG) {
    const path = join(dir, file);
    if (existsSync(path) && section.test(readFileSync(path, "utf8"))) return { found: file };
  }
  for (const folder of ["tests", "test"]) {
    const path = join(dir, folder);
    if (existsSync(path) && statSync(path).isDirectory() && hasTestFile(path, 3))
      return { found: `${folder}/`, paths: folder };
  }
  const rootTests = readdirSync(dir).filter(isTestFile);
  if (rootTests.length > 0) return { found: rootTests.join(", "), paths: rootTests.join(" ") };
  return undefined;
}

const isTestFile = (name: string) => /^test_.*\.py$|_test\.py$/.test(name);

function hasTestFile(dir: string, depth: number): boolean {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isFile() && isTestFile(entry.name)) return true;
    if (
      entry.isDirectory() &&
      depth > 1 &&
      !entry.name.startsWith(".") &&
      hasTestFile(join(dir, entry.name), depth - 1)
    )
      return true;
  }
  return false;
}

/**
 * A scenario name from a command: the script it runs ("python3 scripts/load.py --rows 9" → "load"),
 * the module ("python -m catalog.cli" → "catalog.cli"), else the program ("./build.sh" → "build").
 */
export function scenarioName(command: string): string {
  const words = command.trim().split(/\s+/);
  const script = words.find((w) => /\.(py|js|mjs|cjs|ts|sh)$/.test(w));
  const module = words[words.indexOf("-m") + 1];
  const word =
    script ?? (words.includes("-m") && module ? module : (words.find((w) => !w.includes("=")) ?? ""));
  const name = basename(word)
    .replace(/\.(py|js|mjs|cjs|ts|sh)$/, "")
    .replace(/[^A-Za-z0-9._-]+/g, "-")
    .replace(/^[^A-Za-z0-9]+/, "")
    .slice(0, 60);
  return name || "scenario";
}

function uniqueName(name: string, taken: readonly Draft[]): string {
  let candidate = name;
  for (let i = 2; taken.some((d) => d.name === candidate); i++) candidate = `${name}-${i}`;
  return candidate;
}

/** The draft budget file that is measured: every scenario with the budgets `init` will set, unbounded. */
export function draftText(drafts: readonly Draft[]): string {
  return JSON.stringify({ scenarios: Object.fromEntries(drafts.map((d) => [d.name, entry(d, undefined)])) });
}

/**
 * The budget file `init` writes: `$schema` first, then each scenario that measured, with its
 * budgets (from `update`'s rule: the updates) and nothing else the defaults already say.
 */
export function initialText(
  drafts: readonly Draft[],
  updates: readonly BudgetUpdate[],
  schema: string,
): string {
  const scenarios = Object.fromEntries(drafts.map((d) => [d.name, entry(d, updates)]));
  return `${JSON.stringify({ $schema: schema, scenarios }, null, 2)}\n`;
}

function entry(d: Draft, updates: readonly BudgetUpdate[] | undefined): Record<string, unknown> {
  const mine = (updates ?? []).filter((u) => u.scenario === d.name);
  const budget = updates
    ? Object.fromEntries(mine.filter((u) => u.test === undefined).map((u) => [u.metric, u.text]))
    : Object.fromEntries(INIT_METRICS.map((m) => [m, UNBOUNDED]));
  const perTest = updates
    ? Object.fromEntries(mine.filter((u) => u.test === "*").map((u) => [u.metric, u.text]))
    : { peakHeap: UNBOUNDED };
  return {
    run: d.run,
    ...(d.repeat !== undefined ? { repeat: d.repeat } : {}),
    budget,
    ...(d.perTest && Object.keys(perTest).length > 0 ? { tests: { "*": perTest } } : {}),
  };
}

/** `$schema` as the budget file's folder reaches the schema shipped beside this CLI, when it can. */
export function schemaReference(dir: string, shipped: string | undefined): string {
  const fromPackage = "./node_modules/membudget/dist/budgets.schema.json";
  if (!shipped) return fromPackage;
  const rel = relative(dir, shipped);
  return rel.startsWith("..") || rel.startsWith("/") ? fromPackage : `./${rel}`;
}
