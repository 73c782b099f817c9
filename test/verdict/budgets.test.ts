// `check`'s path: a stored report judged against a budget file's current budgets, through judge().
import { describe, expect, it } from "vitest";
import type { Plan } from "../../src/config/types.js";
import { budgetsOfPlan } from "../../src/verdict/budgets.js";
import { judge } from "../../src/verdict/judge.js";
import { MiB, report } from "../helpers/reports.js";

function planOf(budgets: Record<string, { peakHeap?: number; tolerance?: number }>): Plan {
  return {
    file: "/repo/membudget.json",
    scenarios: Object.entries(budgets).map(([name, b]) => ({
      name,
      run: "true",
      runtime: "python",
      cwd: "/repo",
      env: {},
      timeout: 300,
      repeat: 1,
      tolerance: b.tolerance ?? 0.02,
      sites: "auto",
      cleanRun: "auto",
      budget: b.peakHeap !== undefined ? { peakHeap: b.peakHeap } : {},
      source: { line: 7, budgetLines: { peakHeap: 8 } },
    })),
  };
}

describe("budgets of a plan, applied by the judge", () => {
  const stored = report([
    { name: "a", runs: [{ peakHeap: 20 * MiB }], budget: { peakHeap: 64 * MiB } },
    { name: "gone", runs: [{ peakHeap: 20 * MiB }], budget: { peakHeap: 16 * MiB } },
  ]);

  it("replaces a scenario's budgets and tolerance with the file's, once, and judges anew", () => {
    expect(stored.scenarios[0]?.status).toBe("pass");
    const checked = judge(stored, {
      budgets: budgetsOfPlan(planOf({ a: { peakHeap: 16 * MiB, tolerance: 0.1 } })),
    });
    const a = checked.scenarios[0]!;
    expect(a.metrics.peakHeap).toMatchObject({ budget: 16 * MiB, status: "over" });
    expect(a.tolerance).toBe(0.1);
    expect(a.source).toEqual({ line: 7, budgetLines: { peakHeap: 8 } });
  });

  it("leaves a scenario the file no longer has with the budgets its report carries", () => {
    const checked = judge(stored, { budgets: budgetsOfPlan(planOf({ a: { peakHeap: 64 * MiB } })) });
    expect(checked.scenarios[1]).toMatchObject({ name: "gone", status: "over" });
    expect(checked.scenarios[1]?.metrics.peakHeap?.budget).toBe(16 * MiB);
  });

  it("drops a budget the file no longer sets: the figure is only measured", () => {
    const checked = judge(stored, { budgets: budgetsOfPlan(planOf({ a: {} })) });
    expect(checked.scenarios[0]?.metrics.peakHeap?.budget).toBeUndefined();
    expect(checked.scenarios[0]?.metrics.peakHeap?.status).toBe("unbudgeted");
  });

  it("is the same report judged twice as once", () => {
    const budgets = budgetsOfPlan(planOf({ a: { peakHeap: 16 * MiB } }));
    const once = judge(stored, { budgets });
    expect(judge(once, { budgets })).toEqual(once);
    expect(judge(once)).toEqual(once);
  });

  it("keeps what it applied: judged again alone, a budget without a figure and every per-test rule hold", () => {
    const plan = planOf({ a: { peakHeap: 64 * MiB } });
    plan.scenarios[0]!.budget = { peakHeap: 64 * MiB, peakPss: 100 * MiB };
    plan.scenarios[0]!.tests = [{ pattern: "tests/test_a.py::*", budget: { peakHeap: 2 * MiB }, line: 12 }];
    const withTests = report([{ name: "a", runs: [{ peakHeap: 20 * MiB }] }]);
    const heap = (value: number) => ({
      value,
      min: value,
      max: value,
      spread: 0,
      runs: 1,
      kind: "exact" as const,
      deterministic: true,
      status: "unbudgeted" as const,
    });
    withTests.scenarios[0]!.tests = [
      // Its own marker says 3 MiB, the glob 2 MiB: the marker wins, and the glob stays a rule.
      {
        id: "tests/test_a.py::test_one",
        outcome: "passed",
        status: "pass",
        metrics: { peakHeap: heap(3 * MiB) },
        marker: { text: "3 MiB", bytes: 3 * MiB },
      },
      {
        id: "tests/test_a.py::test_two",
        outcome: "passed",
        status: "pass",
        metrics: { peakHeap: heap(MiB) },
      },
    ];
    withTests.scenarios[0]!.testSummary = { total: 2, over: 0, regressed: 0, new: 0, removed: 0 };
    const once = judge(withTests, { budgets: budgetsOfPlan(plan) });
    expect(once.scenarios[0]!.applied).toEqual({
      budget: { peakHeap: 64 * MiB, peakPss: 100 * MiB },
      tests: plan.scenarios[0]!.tests,
    });
    expect(once.scenarios[0]!.unavailable?.peakPss).toBe("not in the report");
    // The rule's budget is applied again on re-judging, so a test that grew past it is over.
    const grown = structuredClone(once);
    grown.scenarios[0]!.tests![1]!.metrics.peakHeap = heap(5 * MiB);
    const again = judge(grown);
    expect(again.scenarios[0]!.status).toBe("error");
    expect(again.scenarios[0]!.unavailable?.peakPss).toBe("not in the report");
    expect(again.scenarios[0]!.tests?.find((t) => t.id.endsWith("two"))).toMatchObject({
      status: "over",
      budgetFrom: ["tests/test_a.py::*"],
    });
    expect(judge(once)).toEqual(once);
  });
});
