// Per-test globs are matched without regular expressions (issue 28, items 4 and 5): the matcher
// agrees with the regular expression a glob stands for, and a 60,000-character pattern or node id
// is matched in linear time.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { globMatches } from "../../src/verdict/pytest.js";

/** The referee: the glob as a regular expression (code points, `*` any run, `?` one). */
function referee(pattern: string, text: string): boolean {
  const body = [...pattern]
    .map((ch) => (ch === "*" ? ".*" : ch === "?" ? "." : ch.replace(/[.+^${}()|[\]\\/-]/g, "\\$&")))
    .join("");
  return new RegExp(`^${body}$`, "su").test(text);
}

const piece = fc.constantFrom("a", "b", ":", "😀", "[", ".");
const text = fc.array(piece, { maxLength: 10 }).map((p) => p.join(""));
const pattern = fc.array(fc.oneof(piece, fc.constantFrom("*", "?")), { maxLength: 8 }).map((p) => p.join(""));

describe("globMatches", () => {
  it("agrees with the regular expression on every pattern and node id", () => {
    fc.assert(
      fc.property(pattern, text, (p, t) => {
        expect(globMatches(p, t)).toBe(referee(p, t));
      }),
      { numRuns: 5000 },
    );
  });

  it("matches a pattern and a node id of tens of thousands of characters", () => {
    const id = `tests/test_x.py::test_${"t".repeat(70_000)}`;
    expect(globMatches(id, id)).toBe(true);
    expect(globMatches(`tests/*${"t".repeat(60_000)}?`, id)).toBe(true);
    expect(globMatches(`*${"t".repeat(30_000)}x*`, id)).toBe(false);
    expect(globMatches(`*::*${"t".repeat(60_000)}`, id)).toBe(true);
  });
});
