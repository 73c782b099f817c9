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
