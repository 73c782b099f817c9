// Allocation sites as every stage speaks of them: where a location's line is, and when sites are taken.

/**
 * When the attribution run happens. auto: only for a scenario that came out over budget or
 * regressed; always: for every scenario; never: not at all.
 */
export type SitesMode = "auto" | "always" | "never";

/** "pkg/mod.py:42" → {file: "pkg/mod.py", line: 42}; a location without a line keeps it undefined. */
export function splitLocation(location: string): { file: string; line?: number } {
  const m = /^(.*):(\d+)$/.exec(location);
  if (!m) return { file: location };
  return { file: m[1]!, line: Number(m[2]) };
}
