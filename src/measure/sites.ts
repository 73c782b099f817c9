// Allocation sites and heap timelines as the probes leave them, made fit for the report: the
// process that matters, paths relative to the repository, a bounded count, points on the run's clock.
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { workTreeTop } from "../git/git.js";
import type { ScenarioReport, Site } from "../model/report.js";
import { type SitesMode, splitLocation } from "../model/sites.js";
import { probeDir } from "./probe-files.js";
import type { ProcessFigures } from "./types.js";

/** How many sites a scenario keeps, per list. */
export const SITE_LIMIT = 10;

/** Whether a scenario with this mode and (judged) status gets an attribution run. */
export function wantsSites(mode: SitesMode, status: string): boolean {
  if (mode === "never") return false;
  if (mode === "always") return status !== "error" && status !== "removed";
  return status === "over" || status === "regressed";
}

interface ProbeSites {
  peak?: Site[];
  allocated?: Site[];
  /** Python: traced bytes at the kept snapshot. */
  traced?: number;
}

function probeSites(file: ProcessFigures): ProbeSites | undefined {
  const sites = file.extra?.["sites"];
  if (typeof sites !== "object" || sites === null) return undefined;
  return sites as ProbeSites;
}

function total(sites: Site[] | undefined): number {
  return (sites ?? []).reduce((sum, s) => sum + (Number.isFinite(s.bytes) ? s.bytes : 0), 0);
}

/**
 * The sites of one attribution run. `peak` comes from the single process that held the most (a
 * peak heap is one process's, as docs/architecture.md defines peakHeap); `allocated` adds up over processes.
 */
export function sitesOfRun(
  processes: ProcessFigures[],
  limit = SITE_LIMIT,
  ownCode: (file: string) => boolean = ownCodeOf(),
): { peak?: Site[]; allocated?: Site[] } {
  let peak: Site[] | undefined;
  let peakHeld = -1;
  const allocated = new Map<string, Site>();
  for (const file of processes) {
    const sites = probeSites(file);
    if (!sites) continue;
    if (Array.isArray(sites.peak) && sites.peak.length > 0) {
      const held = sites.traced ?? total(sites.peak);
      if (held > peakHeld) {
        peakHeld = held;
        peak = sites.peak;
      }
    }
    for (const site of Array.isArray(sites.allocated) ? sites.allocated : []) {
      const key = `${site.function ?? ""}\u0000${site.location}`;
      const known = allocated.get(key);
      if (!known) allocated.set(key, { ...site });
      else {
        known.bytes += site.bytes;
        if (site.count !== undefined) known.count = (known.count ?? 0) + site.count;
      }
    }
  }
  const out: { peak?: Site[]; allocated?: Site[] } = {};
  const cleanPeak = peak ? topSites(peak, limit, ownCode) : [];
  if (cleanPeak.length > 0) out.peak = cleanPeak;
  const cleanAllocated = topSites([...allocated.values()], limit, ownCode);
  if (cleanAllocated.length > 0) out.allocated = cleanAllocated;
  return out;
}

/** One process's sampled sites as the allocation probe writes them (mbmalloc-sites.c). */
interface SampledFile {
  mode: "sampled";
  interval: number;
  samples: number;
  peakLive?: number;
  /** [stack id, bytes, standard error, samples], largest first. */
  peak: [number, number, number, number][];
  allocated: [number, number, number, number][];
  /** pytest: the tests (by their number in the plugin's file) whose heap grew most, and their sites. */
  windows?: { test: number; grown: number; sites: [number, number, number, number][] }[];
  /** Stacks by id, innermost frame first: [file, line, function]. */
  stacks: Record<string, [string, number, string][]>;
}

/** Sampled sites of one run, user-first, locations as the probe wrote them (absolute paths). */
export interface SampledSites {
  peak?: Site[];
  allocated?: Site[];
  /** Load scenarios: what grew from warm-up's end to the last round, with perRequest. */
  retained?: Site[];
  /** pytest: sites live at a test's peak window, beyond what was live when it began, by test number and pid. */
  windows?: { pid: number; test: number; sites: Site[] }[];
  interval: number;
  samples: number;
}

function sampledFile(file: ProcessFigures): SampledFile | undefined {
  const sites = file.extra?.["sites"] as Partial<SampledFile> | undefined;
  if (typeof sites !== "object" || sites === null || sites.mode !== "sampled") return undefined;
  if (!Array.isArray(sites.peak) || !Array.isArray(sites.allocated) || typeof sites.stacks !== "object")
    return undefined;
  return sites as SampledFile;
}

/** Whether a Python file is library code: the standard library, installed packages, a virtualenv. */
export function isLibraryFile(file: string): boolean {
  if (!isAbsolute(file)) return true; // <frozen importlib._bootstrap>, <string>
  const posix = file.split(sep).join("/");
  return (
    /\/(?:site|dist)-packages\//.test(posix) ||
    /\/lib\/python\d+(?:\.\d+)?t?\//.test(posix) ||
    /\/(?:\.?venv|\.tox|\.nox|virtualenvs)\//.test(posix)
  );
}

/**
 * Which frame of a stack (innermost first) a site is named by: the innermost in the repository that
 * is not library code nor membudget's; failing that, the innermost that is neither; failing that,
 * the innermost not membudget's. The innermost frame is the context when another is chosen.
 */
export function userFrame<T extends { file: string }>(
  stack: T[],
  root: string,
  ownCode: (file: string) => boolean,
): { frame: T; context?: T } | undefined {
  const notOurs = stack.filter((f) => !ownCode(f.file));
  if (notOurs.length === 0) return undefined;
  const realRoot = real(root);
  const user = notOurs.filter((f) => !isLibraryFile(f.file));
  const chosen = user.find((f) => inside(real(f.file), realRoot)) ?? user[0] ?? notOurs[0]!;
  const innermost = notOurs[0]!;
  return chosen === innermost ? { frame: chosen } : { frame: chosen, context: innermost };
}

const sourceLines = new Map<string, string[] | undefined>();

/** The text of a source line, whitespace collapsed (what base and head sites are matched by). */
export function sourceLine(file: string, line: number): string | undefined {
  if (!isAbsolute(file) || line < 1) return undefined;
  if (!sourceLines.has(file)) {
    try {
      sourceLines.set(file, readFileSync(file, "utf8").split(/\r?\n/));
    } catch {
      sourceLines.set(file, undefined);
    }
  }
  const text = sourceLines.get(file)?.[line - 1]?.trim().replace(/\s+/g, " ");
  return text ? text.slice(0, 200) : undefined;
}

/** Folds sampled entries into sites named by their user frame, largest first, at most `limit`. */
function foldSampled(
  entries: [number, number, number, number][],
  stacks: SampledFile["stacks"],
  root: string,
  ownCode: (file: string) => boolean,
  limit: number,
): Site[] {
  const folded = new Map<string, Site & { variance: number; largest: number }>();
  for (const [id, bytes, error, count] of entries) {
    const raw = stacks[String(id)];
    if (!Array.isArray(raw) || !(bytes > 0)) continue;
    const frames = raw.map(([file, line, fn]) => ({ file, line, fn }));
    const chosen = userFrame(frames, root, ownCode);
    if (!chosen) continue;
    const { frame, context } = chosen;
    const location = `${frame.file}:${frame.line}`;
    const fn = enclosingFunction(frames, frame);
    const key = `${fn}\u0000${location}`;
    const known = folded.get(key);
    if (known) {
      known.bytes += bytes;
      known.variance += error * error;
      known.count = (known.count ?? 0) + count;
      if (bytes > known.largest) {
        known.largest = bytes;
        known.stack = frames.slice(0, 8).map((f) => `${f.file}:${f.line}`);
        if (context) known.context = `${context.file}:${context.line}`;
        else delete known.context;
      }
      continue;
    }
    const code = sourceLine(frame.file, frame.line);
    folded.set(key, {
      location,
      function: fn,
      bytes,
      count,
      stack: frames.slice(0, 8).map((f) => `${f.file}:${f.line}`),
      ...(context ? { context: `${context.file}:${context.line}` } : {}),
      ...(code ? { code } : {}),
      variance: error * error,
      largest: bytes,
    });
  }
  return [...folded.values()]
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, Math.max(0, limit))
    .map(({ variance, largest: _, ...site }) => ({
      ...site,
      bytes: Math.round(site.bytes),
      error: Math.round(Math.sqrt(variance)),
    }));
}

const COMPREHENSION = /(?:^|\.)<(?:listcomp|dictcomp|setcomp|genexpr)>$/;

/** A comprehension's frame (its own function up to 3.11) is named by the function it is written in. */
function enclosingFunction(
  frames: { file: string; fn: string }[],
  frame: { file: string; fn: string },
): string {
  if (!COMPREHENSION.test(frame.fn)) return frame.fn;
  const outer = frames[frames.indexOf(frame as (typeof frames)[number]) + 1];
  if (outer && outer.file === frame.file) return enclosingFunction(frames, outer);
  return frame.fn.replace(/\.<locals>\.<\w+>$/, "");
}

/**
 * The sampled sites of one measured run: `peak` from the process that held the most at its peak
 * (as sitesOfRun), `allocated` added up over processes, and pytest's per-test windows.
 */
export function sampledSitesOfRun(
  processes: ProcessFigures[],
  root: string,
  limit = SITE_LIMIT,
  ownCode: (file: string) => boolean = ownCodeOf(root),
): SampledSites | undefined {
  let best: SampledFile | undefined;
  let bestHeld = -1;
  let interval = 0;
  let samples = 0;
  const allocated: Site[] = [];
  const windows: NonNullable<SampledSites["windows"]> = [];
  for (const file of processes) {
    const sampled = sampledFile(file);
    if (!sampled) continue;
    interval = sampled.interval;
    samples += sampled.samples;
    const held = sampled.peak.reduce((sum, e) => sum + e[1], 0);
    if (held > bestHeld) {
      bestHeld = held;
      best = sampled;
    }
    allocated.push(...foldSampled(sampled.allocated, sampled.stacks, root, ownCode, Infinity));
    for (const w of sampled.windows ?? []) {
      const sites = foldSampled(w.sites, sampled.stacks, root, ownCode, limit);
      if (sites.length > 0) windows.push({ pid: file.pid, test: w.test, sites });
    }
  }
  if (!best) return undefined;
  const out: SampledSites = { interval, samples };
  const peak = foldSampled(best.peak, best.stacks, root, ownCode, limit);
  if (peak.length > 0) out.peak = peak;
  const merged = mergeSites(allocated).slice(0, limit);
  if (merged.length > 0) out.allocated = merged;
  if (windows.length > 0) out.windows = windows;
  return out;
}

/** A load probe's sampled answer ("retained": grown since the mark) as sites, user-first. */
export function retainedSampledSites(
  raw: unknown,
  root: string,
  limit = SITE_LIMIT,
  ownCode: (file: string) => boolean = ownCodeOf(root),
): Site[] {
  const sampled = raw as Partial<SampledFile> & { retained?: SampledFile["peak"] };
  if (typeof sampled !== "object" || sampled === null || !Array.isArray(sampled.retained)) return [];
  if (typeof sampled.stacks !== "object" || sampled.stacks === null) return [];
  return foldSampled(sampled.retained, sampled.stacks, root, ownCode, limit);
}

/** V8's sampling interval in the Node.js probe (probe.cjs). */
const NODE_SAMPLING_INTERVAL = 32 * 1024;

/**
 * Node.js sites from the measured run (V8's sampling heap profiler, live at exit): the process
 * that held the most, each site with its source line's text (V8 names a function's definition).
 */
export function nodeSitesOfRun(
  processes: ProcessFigures[],
  root: string,
  limit = SITE_LIMIT,
  ownCode: (file: string) => boolean = ownCodeOf(root),
): SampledSites | undefined {
  const found = sitesOfRun(processes, limit, ownCode);
  if (!found.peak) return undefined;
  const peak = found.peak.map((site) => {
    const { file, line } = splitLocation(site.location);
    const code = line !== undefined ? sourceLine(file, line) : undefined;
    return code ? { ...site, code } : site;
  });
  return { peak, interval: NODE_SAMPLING_INTERVAL, samples: 0 };
}

/** Sites of several processes at one place added up (errors in quadrature), largest first. */
function mergeSites(sites: Site[]): Site[] {
  const byKey = new Map<string, Site>();
  for (const site of sites) {
    const key = `${site.function ?? ""}\u0000${site.location}`;
    const known = byKey.get(key);
    if (!known) byKey.set(key, { ...site });
    else {
      known.bytes += site.bytes;
      known.count = (known.count ?? 0) + (site.count ?? 0);
      known.error = Math.round(Math.hypot(known.error ?? 0, site.error ?? 0));
    }
  }
  return [...byKey.values()].sort((a, b) => b.bytes - a.bytes);
}

/** Drops what names no place (empty tracebacks) and membudget's own code, largest first, at most `limit`. */
function topSites(sites: Site[], limit: number, ownCode: (file: string) => boolean): Site[] {
  return sites
    .filter(
      (s) =>
        typeof s.location === "string" &&
        !s.location.startsWith("<unknown>") &&
        s.bytes > 0 &&
        !ownCode(splitLocation(s.location).file),
    )
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, Math.max(0, limit));
}

/**
 * Whether a file is membudget's own code, which is never the workload's allocation site: the
 * probes (sitecustomize.py's sampler, probe.cjs) wherever they are loaded from, and anything under
 * the folder membudget is installed in (the Action's own checkout), unless that folder is the
 * repository being measured (membudget measuring itself).
 */
export function ownCodeOf(repository?: string): (file: string) => boolean {
  const roots = [probeDir()];
  const home = installRoot();
  if (home && !(repository && inside(real(repository), home))) roots.push(home);
  const realRoots = roots.map(real);
  return (file) => isAbsolute(file) && realRoots.some((root) => inside(real(file), root));
}

/** The folder membudget runs from: the nearest package.json above its probes (dist/.. or the checkout). */
function installRoot(): string | undefined {
  for (let dir = probeDir(); dir !== dirname(dir); dir = dirname(dir)) {
    if (existsSync(join(dir, "package.json"))) return dir;
  }
  return undefined;
}

function inside(path: string, root: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (!rel.startsWith("..") && !isAbsolute(rel));
}

function real(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(path);
  }
}

/**
 * A location ("path:line") as the report shows it: relative to the repository root when inside it;
 * Python's standard library, installed packages and node_modules shortened to
 * `<stdlib>/json/decoder.py:353`, `<site-packages>/pkg/x.py:10`, `<node_modules>/pkg/x.js:3`
 * (their lines at a commit on GitHub mean nothing); anything else left as it is.
 */
export function displayLocation(location: string, root: string): string {
  const m = /^(.*?)(:\d+)?$/.exec(location);
  const file = m?.[1] ?? location;
  const line = m?.[2] ?? "";
  return `${siteFile(file, root)}${line}`;
}

/** A site's file: shortened where its lines mean nothing at a commit, else relative to the repository. */
function siteFile(file: string, root: string): string {
  if (!isAbsolute(file)) return file; // node:internal/…, <frozen …>, (native)
  const posix = file.split(sep).join("/");
  const packages = /\/(?:site|dist)-packages\/(.*)$/.exec(posix);
  if (packages) return `<site-packages>/${packages[1]}`;
  const modules = /\/node_modules\/(.*)$/.exec(posix);
  if (modules) return `<node_modules>/${modules[1]}`;
  const stdlib = /\/lib\/python\d+(?:\.\d+)?t?\/(.*)$/.exec(posix);
  if (stdlib) return `<stdlib>/${stdlib[1]}`;
  const rel = relative(root, file);
  if (rel !== "" && !rel.startsWith("..") && !isAbsolute(rel)) return rel.split(sep).join("/");
  return file;
}

/** Every location of the sites (and their stacks) made relative to `root`. */
export function relativeSites(sites: Site[], root: string): Site[] {
  return sites.map((s) => ({
    ...s,
    location: displayLocation(s.location, root),
    ...(s.stack ? { stack: s.stack.map((f) => displayLocation(f, root)) } : {}),
    ...(s.context ? { context: displayLocation(s.context, root) } : {}),
  }));
}

/** A run's sampled sites as the report keeps them: relative locations, the method and interval. */
export function reportSites(sampled: SampledSites, root: string): ScenarioReport["sites"] | undefined {
  if (!sampled.peak && !sampled.allocated && !sampled.retained) return undefined;
  return {
    ...(sampled.peak ? { peak: relativeSites(sampled.peak, root) } : {}),
    ...(sampled.allocated ? { allocated: relativeSites(sampled.allocated, root) } : {}),
    ...(sampled.retained ? { retained: relativeSites(sampled.retained, root) } : {}),
    method: "sampled",
    interval: sampled.interval,
  };
}

const roots = new Map<string, string | undefined>();

/** The git work tree that holds `cwd` (a base worktree is its own root), or `fallback`. */
export function repositoryRoot(cwd: string, fallback: string): string {
  if (!roots.has(cwd)) {
    roots.set(cwd, workTreeTop(cwd));
  }
  return roots.get(cwd) ?? fallback;
}
