// Environment variables a test file sets for the engine it runs in-process (CC, the cache folder),
// put back as they were once the file's tests are done.
import { afterAll } from "vitest";

/** Remembers `keys` now and restores them (or removes them) after all of this file's tests. */
export function restoreEnvAfterAll(keys: string[]): void {
  const saved = new Map(keys.map((key) => [key, process.env[key]]));
  afterAll(() => {
    for (const [key, value] of saved) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });
}
