// The native helpers' cache key: the build's digests (dist/probes/native/digests.json, read at every
// start instead of the sources) are the sources' own, and the key changes with what the helper is
// built from: its sources, the compiler, the architecture.
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { cacheKey, nativeSources, sourceDigest } from "../../src/measure/native.js";

describe("the native helpers' cache key", () => {
  it("is built from the digests the build wrote, which are the sources' own", () => {
    const built = JSON.parse(readFileSync(resolve("dist/probes/native/digests.json"), "utf8"));
    expect(Object.keys(built).sort()).toEqual(["mbmalloc", "rsswrap"]);
    for (const name of ["mbmalloc", "rsswrap"]) {
      const { inputs } = nativeSources(name);
      // From the sources (no digests.json beside them), worked out with SHA-256.
      expect(inputs[0]).toBe(join(resolve("src/measure/probes/native"), `${name}.c`));
      expect(sourceDigest(name, inputs)).toBe(built[name]);
    }
  });

  it("tells sources, compilers and architectures apart, and is the same for the same inputs", () => {
    const key = cacheKey(["abc", "cc", "x64"]);
    expect(key).toMatch(/^[0-9a-f]{16}$/);
    expect(cacheKey(["abc", "cc", "x64"])).toBe(key);
    expect(
      new Set([
        key,
        cacheKey(["abd", "cc", "x64"]),
        cacheKey(["abc", "gcc-12", "x64"]),
        cacheKey(["abc", "cc", "arm64"]),
        cacheKey(["ab", "ccc", "x64"]),
      ]).size,
    ).toBe(5);
  });
});
