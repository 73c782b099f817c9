import { describe, expect, it } from "vitest";
import { parsePlan } from "../../src/config/plan.js";
import { applyBudgetUpdates, budgetUpdates } from "../../src/config/update.js";
import { MiB, report } from "../helpers/reports.js";

const FILE = `{
  // budgets of the catalog service
  "scenarios": {
    "load": {
      "run": "python3 load.py",
      "budget": { "peakHeap": "48 MiB", "wallTime": "2s" } // raised in #12
    },
    "parse": { "run": "python3 parse.py" }
  }
}
`;

describe("membudget update", () => {
  const measured = report([
    {
      name: "load",
      runs: [
        { peakHeap: 60 * MiB, wallTime: 1.1 },
        { peakHeap: 62 * MiB, wallTime: 1.3 },
      ],
    },
    { name: "parse", runs: [{ peakHeap: 5 * MiB, allocations: 123_456 }] },
  ]);
  const budgets = new Map(
    parsePlan(FILE, "membudget.json", "/repo/membudget.json").scenarios.map((s) => [s.name, s.budget]),
  );

  it("sets each budgeted metric to the largest run plus headroom, rounded up to a tidy figure", () => {
    const updates = budgetUpdates(measured, budgets, { headroom: 0.1 });
    expect(updates.map((u) => [u.scenario, u.metric, u.text])).toEqual([
      ["load", "peakHeap", "69 MiB"], // 62 × 1.1 = 68.2
      ["load", "wallTime", "1.5s"], // 1.3 × 1.1 = 1.43
    ]);
  });

  it("budgets the metrics asked for, even where there was no budget", () => {
    const updates = budgetUpdates(measured, budgets, { headroom: 0.2, metrics: ["allocations"] });
    expect(updates.map((u) => [u.scenario, u.metric, u.text])).toEqual([["parse", "allocations", 150_000]]);
  });

  it("keeps the file's comments and layout, and the result is a valid budget file", () => {
    const text = applyBudgetUpdates(FILE, budgetUpdates(measured, budgets, { headroom: 0.1 }));
    expect(text).toContain("// budgets of the catalog service");
    expect(text).toContain('"budget": { "peakHeap": "69 MiB", "wallTime": "1.5s" } // raised in #12');
    const plan = parsePlan(text, "membudget.json", "/repo/membudget.json");
    expect(plan.scenarios[0]?.budget).toEqual({ peakHeap: 69 * MiB, wallTime: 1.5 });
  });
});
