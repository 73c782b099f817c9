// Allocation sites as every stage speaks of them: where a location's line is, and when sites are taken.

/**
 * When a scenario's allocation sites are shown. auto: only for a scenario that came out over budget
 * or regressed; always: for every scenario; never: not at all. Python's come from the measured run
 * (sampled); traced: as auto, from an extra Python run under tracemalloc with stacks (every block).
 */
export type SitesMode = "auto" | "always" | "traced" | "never";

/** Mean bytes between two sampled Python blocks (Go's heap profiler uses the same default). */
export const SAMPLE_INTERVAL = 512 * 1024;

/**
 * The same for a load scenario's instrumented run: what it names is a leak of a few hundred bytes
 * per request, a few hundred KiB over the rounds, so it samples far more often (its latencies
 * come from the clean run, which samples nothing).
 */
export const LOAD_SAMPLE_INTERVAL = 8 * 1024;

/** "pkg/mod.py:42" → {file: "pkg/mod.py", line: 42}; a location without a line keeps it undefined. */
export function splitLocation(location: string): { file: string; line?: number } {
  const m = /^(.*):(\d+)$/.exec(location);
  if (!m) return { file: location };
  return { file: m[1]!, line: Number(m[2]) };
}
