// The pytest plugin seen from the runner: the environment that loads it into every pytest process
// (and xdist worker) of a Python run, and its per-process files read back into one run's tests.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { TestMetricKey, TestOutcome } from "../model/pytest.js";
import type { Site } from "../model/report.js";
import type { SampledSites } from "./sites.js";
import type { ProcessFigures } from "./types.js";

export const PYTEST_PLUGIN = "membudget_pytest";

/**
 * Adds the plugin to a Python probe's environment: pytest imports PYTEST_PLUGINS by name, and the
 * probe's sitecustomize gives it the plugin, when the plugin is named there, from membudget's code
 * cache through a finder on sys.meta_path (no folder on sys.path: there pytest's assertion rewriter
 * would compile it inside the measured window, and every import would search one more folder).
 */
export function withPytestPlugin(env: NodeJS.ProcessEnv, baseEnv: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const plugins = (baseEnv["PYTEST_PLUGINS"] ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter((p) => p !== "");
  if (!plugins.includes(PYTEST_PLUGIN)) plugins.push(PYTEST_PLUGIN);
  return { ...env, PYTEST_PLUGINS: plugins.join(",") };
}

/** One test as one process recorded it. */
export interface TestFigures {
  id: string;
  outcome: TestOutcome;
  figures: Partial<Record<TestMetricKey, number>>;
  marker?: { text: string; bytes?: number };
  /** Where the test is defined: the file (absolute) and its line, as pytest's item.location says. */
  location?: { file: string; line: number };
  pid: number;
  /** Its number in its process's file (the allocation probe names windows by it). */
  index?: number;
  /** Sampled sites live at the test's peak beyond what was live when it began (absolute paths). */
  sites?: Site[];
}

/** Puts each kept per-test window's sites on its test (matched by pid and number). */
export function withTestSites(run: TestRun, sampled: SampledSites, shown: (sites: Site[]) => Site[]): void {
  if (!sampled.windows) return;
  const byKey = new Map(run.tests.map((t) => [`${t.pid}:${t.index}`, t]));
  for (const w of sampled.windows) {
    const test = byKey.get(`${w.pid}:${w.test}`);
    if (test) test.sites = shown(w.sites);
  }
}

/** The tests of one run, over all its pytest processes. */
export interface TestRun {
  tests: TestFigures[];
  /** "interposer" or "tracemalloc" when the heap figures were measured. */
  heapSource?: string;
  /** Why they were not (the first process's reason). */
  heapUnavailable?: string;
  /** Node ids that more than one process recorded (the largest peak is kept). */
  duplicates: string[];
  /** Each pytest process's own peak (pid → bytes) where the plugin reset the probe's peak. */
  processPeaks: Map<number, number>;
}

const FILE = /^(\d+)\.pytest\.json$/;

/** Reads every `<pid>.pytest.json` of a run; undefined when no pytest process ran. */
export function readTestFiles(outDir: string, onProblem: (message: string) => void): TestRun | undefined {
  let names: string[];
  try {
    names = readdirSync(outDir).filter((n) => FILE.test(n));
  } catch {
    return undefined;
  }
  if (names.length === 0) return undefined;
  const byId = new Map<string, TestFigures>();
  const run: TestRun = { tests: [], duplicates: [], processPeaks: new Map() };
  for (const name of names.sort()) {
    const path = join(outDir, name);
    let data: PluginFile;
    try {
      data = JSON.parse(readFileSync(path, "utf8")) as PluginFile;
      if (data.probe !== "pytest" || !Array.isArray(data.tests)) throw new Error("not a pytest probe file");
    } catch (error) {
      onProblem(`membudget: ignored the unreadable pytest probe file ${path}: ${(error as Error).message}`);
      continue;
    }
    if (data.source) run.heapSource ??= data.source;
    else if (data.unavailable) run.heapUnavailable ??= data.unavailable;
    if (typeof data.processPeak === "number") run.processPeaks.set(data.pid, data.processPeak);
    for (const [index, t] of data.tests.entries()) {
      const figures: TestFigures["figures"] = {};
      for (const key of ["peakHeap", "allocated", "allocations", "wallTime"] as const) {
        const value = t[key];
        if (typeof value === "number" && Number.isFinite(value)) figures[key] = value;
      }
      const test: TestFigures = { id: String(t.id), outcome: t.outcome, figures, pid: data.pid, index };
      if (typeof t.file === "string" && typeof t.line === "number")
        test.location = { file: t.file, line: t.line };
      if (t.limit)
        test.marker = { text: t.limit.text, ...(t.limit.bytes != null ? { bytes: t.limit.bytes } : {}) };
      const known = byId.get(test.id);
      if (known) {
        run.duplicates.push(test.id);
        if ((test.figures.peakHeap ?? 0) <= (known.figures.peakHeap ?? 0)) continue;
      }
      byId.set(test.id, test);
    }
  }
  // A heap source found in one process wins over another's reason (the xdist controller runs no test).
  if (run.heapSource) delete run.heapUnavailable;
  run.tests = [...byId.values()];
  return run;
}

interface PluginFile {
  probe: string;
  pid: number;
  source: string | null;
  processPeak: number | null;
  unavailable: string | null;
  tests: {
    id: string;
    outcome: TestOutcome;
    limit?: { text: string; bytes: number | null };
    file?: string;
    line?: number;
    peakHeap?: number;
    allocated?: number;
    allocations?: number;
    wallTime?: number;
  }[];
}

/**
 * Where the plugin reset tracemalloc's peak per test, the probe's own file holds only the peak
 * since the last reset; the plugin's file holds the peak before it. A process's peak is the larger.
 */
export function withProcessPeaks(
  processes: ProcessFigures[],
  peaks: ReadonlyMap<number, number>,
): { processes: ProcessFigures[]; peakHeap?: number } {
  if (peaks.size === 0) return { processes };
  let peakHeap: number | undefined;
  const out = processes.map((p) => {
    const kept = peaks.get(p.pid);
    const own = p.figures.peakHeap;
    const figures =
      kept !== undefined && own !== undefined && kept > own ? { ...p.figures, peakHeap: kept } : p.figures;
    if (figures.peakHeap !== undefined) peakHeap = Math.max(peakHeap ?? 0, figures.peakHeap);
    return figures === p.figures ? p : { ...p, figures };
  });
  return { processes: out, ...(peakHeap !== undefined ? { peakHeap } : {}) };
}
