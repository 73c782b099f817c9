// Budget files no one writes by hand, but a generator or an attacker can (issue 28, items 5 and 6):
// each is a BudgetFileError (exit 2) naming where and what, its message bounded, never a crash.
import { describe, expect, it } from "vitest";
import { parsePlan } from "../../src/config/plan.js";
import { BudgetFileError, SHOWN_PROBLEMS } from "../../src/model/errors.js";

function problemsOf(text: string): BudgetFileError {
  try {
    parsePlan(text, "membudget.json", "/repo/membudget.json");
  } catch (error) {
    expect(error).toBeInstanceOf(BudgetFileError);
    return error as BudgetFileError;
  }
  throw new Error("parsePlan accepted the file");
}

describe("a budget file of 70,000 unknown keys (item 5)", () => {
  it("is every key's problem, located, and a message that names the first 50 and counts the rest", () => {
    const keys = Object.fromEntries(Array.from({ length: 70_000 }, (_, i) => [`k${i}`, 1]));
    const text = JSON.stringify({ scenarios: { a: { run: "true", ...keys } } });
    const error = problemsOf(text);
    expect(error.problems).toHaveLength(70_000);
    const last = error.problems.at(-1)!;
    expect(last.pointer).toBe("/scenarios/a/k69999");
    expect(text.slice(last.column - 1, last.column - 1 + '"k69999"'.length)).toBe('"k69999"');
    expect(error.message.split("\n").filter((l) => l.includes("unknown key"))).toHaveLength(SHOWN_PROBLEMS);
    expect(error.message).toContain(
      `and ${70_000 - SHOWN_PROBLEMS} more problems (the first ${SHOWN_PROBLEMS} are shown)`,
    );
    expect(error.message.length).toBeLessThan(20_000);
  });
});

describe("absurd values (item 6): exit 2 with the place and a fix, never silently rewritten", () => {
  const file = (scenario: Record<string, unknown>, name = "a") =>
    JSON.stringify({ scenarios: { [name]: { run: "python3 x.py", ...scenario } } });
  const cases: [string, string, RegExp][] = [
    ["a timeout of 1e-9 s", file({ timeout: 1e-9 }), /\/scenarios\/a\/timeout.*shorter than 100ms/],
    ['a timeout of "0.5ms"', file({ timeout: "0.5ms" }), /timeout "0\.5ms" is shorter than 100ms/],
    ["a budget of half a byte", file({ budget: { peakHeap: 0.5 } }), /peakHeap.*0\.5 is less than one byte/],
    ["a budget of 5e-324 bytes", file({ budget: { peakHeap: 5e-324 } }), /5e-324 is less than one byte/],
    ['a count of "2.5"', file({ budget: { gcCollections: "2.5" } }), /"2\.5" is not a whole count/],
    ["an empty env name", file({ env: { "": "x" } }), /environment variable name "" is not allowed/],
    ["an env name with =", file({ env: { "A=B": "x" } }), /environment variable name "A=B" is not allowed/],
    ["an env name with a newline", file({ env: { "A\nB": "x" } }), /environment variable name "A\\nB"/],
    ["an env name with NUL", file({ env: { "A\u0000": "x" } }), /environment variable name "A\\u0000"/],
    [
      "an env value over 128 KiB",
      file({ env: { A: "x".repeat(200_000) } }),
      /value of A is 200000 characters/,
    ],
    ["NUL in run", JSON.stringify({ scenarios: { a: { run: "tr\u0000ue" } } }), /\/scenarios\/a\/run.*NUL/],
    ["NUL in cwd", file({ cwd: "a\u0000b" }), /\/scenarios\/a\/cwd.*NUL/],
    [
      'scenarios "a" and "a "',
      JSON.stringify({ scenarios: { a: { run: "true" }, "a ": { run: "true" } } }),
      /scenario name "a " is not allowed.*\n.*not ending with a space/,
    ],
    [
      "a byte order mark",
      `\ufeff${file({})}`,
      /1:1 at \(top level\): the file starts with a byte order mark/,
    ],
  ];
  for (const [what, text, expected] of cases) {
    it(what, () => {
      expect(problemsOf(text).message).toMatch(expected);
    });
  }

  it("bad UTF-8 in run is refused with its line, not rewritten to U+FFFD", async () => {
    const { readBudgetText } = await import("../../src/config/read.js");
    const { mkdtempSync, writeFileSync } = await import("node:fs");
    const { join } = await import("node:path");
    const { tmpdir } = await import("node:os");
    const path = join(mkdtempSync(join(tmpdir(), "mb-utf8-")), "membudget.json");
    writeFileSync(
      path,
      Buffer.concat([
        Buffer.from('{\n"scenarios": {"a": {"run": "echo '),
        Buffer.from([0xff]),
        Buffer.from('"}}}'),
      ]),
    );
    expect(readBudgetText(path)).toEqual({
      code: "not UTF-8 text: byte 0xff on line 2",
      fix: "save the file as UTF-8",
    });
  });
});
