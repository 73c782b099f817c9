// The Python and native probes seen from the runner: the environment a probed run needs, and the
// per-process files it leaves behind, read back and combined into one set of figures per run.
import { readdirSync, readFileSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import type { MetricKey, Runtime } from "../model/metrics.js";
import { nativeTool, pythonCodeCache } from "./native.js";
import { probeFile } from "./probe-files.js";
import type { ProcessFigures } from "./types.js";

export interface ProbeEnvOptions {
  /**
   * Load the malloc interposer (default true). Without it Python's peakHeap comes from
   * tracemalloc (exact, several times slower) and `allocated`/`allocations` are unavailable.
   */
  allocations?: boolean;
}

export interface ProbeEnv {
  /** Variables to add to (override in) the run's environment. */
  env: NodeJS.ProcessEnv;
  /** Things the user should be told once, e.g. "allocation totals unavailable: <reason>". */
  notes: string[];
}

/** The environment additions that make a run of `runtime` write its probe files into `outDir`. */
export function probeEnv(
  runtime: "python" | "native",
  outDir: string,
  baseEnv: NodeJS.ProcessEnv,
  opts: ProbeEnvOptions = {},
): ProbeEnv {
  const env: NodeJS.ProcessEnv = { MEMBUDGET_OUT_DIR: outDir };
  const notes: string[] = [];
  const interposer = opts.allocations === false ? undefined : interposerPath(notes);
  if (interposer) {
    const existing = baseEnv["LD_PRELOAD"]?.trim();
    // glibc searches LD_PRELOAD in order: an allocator listed first would shadow ours, which the
    // interposer detects and reports in its file.
    env["LD_PRELOAD"] = existing ? `${existing}:${interposer}` : interposer;
  } else if (opts.allocations === false) {
    notes.push("allocation totals unavailable: the allocation probe is turned off");
  }
  if (runtime === "python") {
    const ours = dirname(probeFile("python", "sitecustomize.py"));
    // The user's path follows verbatim (an empty entry there means the current directory).
    const user = baseEnv["PYTHONPATH"];
    env["PYTHONPATH"] = user ? `${ours}${delimiter}${user}` : ours;
    // The probe's compiled code, so that no interpreter start compiles it (PYTHONDONTWRITEBYTECODE).
    const code = pythonCodeCache();
    if (code) env["MEMBUDGET_PYCACHE"] = code;
    // With the interposer, the Python probe also wraps Python's own allocator (pymalloc stays:
    // turning it off with PYTHONMALLOC=malloc would cost the workload ~10 % by itself).
    if (!interposer) {
      notes.push("peakHeap measured with tracemalloc: exact, but the workload runs several times slower");
    }
  }
  return { env, notes };
}

function interposerPath(notes: string[]): string | undefined {
  const tool = nativeTool("mbmalloc", "shared");
  if (tool.note) notes.push(tool.note);
  if (!tool.path) {
    notes.push(
      `allocation totals unavailable: ${tool.unavailable ?? "the allocation probe could not be built"}`,
    );
    return undefined;
  }
  if (/[\s:]/.test(tool.path)) {
    // LD_PRELOAD splits on spaces and colons: such a path cannot be listed.
    notes.push(
      `allocation totals unavailable: the probe's path contains a space or colon (${tool.path}); set MEMBUDGET_CACHE_DIR`,
    );
    return undefined;
  }
  return tool.path;
}

const PROBE_FILE = /^(\d+)(?:-(\d+))?\.(python|malloc|node)\.json$/;

/**
 * Reads every `<pid>.<probe>.json` in `outDir`. Temporary files (a process killed while writing)
 * and unrelated names are skipped; a probe file that does not parse is reported through
 * `onProblem` (by default a process warning) and left out.
 */
export function readProbeFiles(
  outDir: string,
  onProblem: (message: string) => void = (message) => process.emitWarning(message, "MembudgetProbeWarning"),
): ProcessFigures[] {
  let names: string[];
  try {
    names = readdirSync(outDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const files: ProcessFigures[] = [];
  for (const name of names.sort()) {
    const match = PROBE_FILE.exec(name);
    if (!match) continue;
    const path = join(outDir, name);
    try {
      files.push(validate(JSON.parse(readFileSync(path, "utf8")), match[3] as ProcessFigures["probe"]));
    } catch (error) {
      onProblem(`membudget: ignored the unreadable probe file ${path}: ${(error as Error).message}`);
    }
  }
  return files;
}

function validate(data: unknown, probe: ProcessFigures["probe"]): ProcessFigures {
  if (typeof data !== "object" || data === null) throw new Error("not a JSON object");
  const file = data as Record<string, unknown>;
  if (file["probe"] !== probe)
    throw new Error(`"probe" is ${JSON.stringify(file["probe"])}, expected "${probe}"`);
  if (!Number.isInteger(file["pid"])) throw new Error(`"pid" is not an integer`);
  const figures = file["figures"];
  if (typeof figures !== "object" || figures === null) throw new Error(`"figures" is not an object`);
  for (const [key, value] of Object.entries(figures)) {
    if (typeof value !== "number" || !Number.isFinite(value))
      throw new Error(`figure "${key}" is not a number`);
  }
  return data as ProcessFigures;
}

type Figures = Partial<Record<MetricKey, number>>;

/** Totals add up over processes; every other figure is the largest single process's. */
const SUMMED: ReadonlySet<MetricKey> = new Set(["allocated", "allocations", "gcPause", "gcCollections"]);

/** The figures the malloc interposer owns when a process also has a Python file. */
const FROM_MALLOC: readonly MetricKey[] = ["peakHeap", "allocated", "allocations"];

/**
 * Combines the per-process files of one run: first each pid's Python and malloc files, then the
 * processes (sums for totals, the largest single process for peaks). For "python" only pids with
 * a Python file count: the interposer is inherited by shells and helpers in the tree, which are
 * not the workload. For "native" every malloc file counts. Node files count one per thread.
 */
export function mergeProcessFigures(
  files: ProcessFigures[],
  runtime: Runtime,
): { figures: Figures; processes: ProcessFigures[] } {
  const byPid = new Map<number, { python?: ProcessFigures; malloc?: ProcessFigures }>();
  const processes: ProcessFigures[] = [];
  for (const file of files) {
    if (file.probe === "node") {
      if (runtime === "node" && !isLauncher(file)) processes.push(file);
      continue;
    }
    const entry = byPid.get(file.pid) ?? {};
    entry[file.probe] = file;
    byPid.set(file.pid, entry);
  }
  for (const [, { python, malloc }] of [...byPid].sort(([a], [b]) => a - b)) {
    if (runtime === "python" && python) {
      if (!isLauncher(python)) processes.push(mergePid(python, malloc));
    } else if (runtime === "native" && malloc) processes.push(malloc);
  }
  const figures: Figures = {};
  for (const proc of processes) {
    for (const [key, value] of Object.entries(proc.figures) as [MetricKey, number][]) {
      const known = figures[key];
      if (known === undefined) figures[key] = value;
      else figures[key] = SUMMED.has(key) ? known + value : Math.max(known, value);
    }
  }
  return { figures, processes };
}

/**
 * Launchers are Node or Python programs too, and the probe loads into them: their few MiB are the
 * launcher's, not the workload's (`npm run bench` or `poetry run python x.py` would count them).
 */
const LAUNCHERS =
  /^(npm|npx|npm-cli|npx-cli|yarn|pnpm|pnpx|corepack|poetry|pipenv|hatch|pdm|tox|nox)(\.c?js|\.py)?$/;

function isLauncher(file: ProcessFigures): boolean {
  const script = file.argv?.[1];
  return script !== undefined && LAUNCHERS.test(script.replace(/^.*[\\/]/, ""));
}

function mergePid(python: ProcessFigures, malloc: ProcessFigures | undefined): ProcessFigures {
  if (!malloc) return python;
  const figures: Figures = { ...python.figures };
  for (const key of FROM_MALLOC) {
    const value = malloc.figures[key];
    if (value !== undefined) figures[key] = value;
  }
  return {
    ...python,
    figures,
    extra: { ...python.extra, malloc: { exit: malloc.exit, ...malloc.extra } },
  };
}
