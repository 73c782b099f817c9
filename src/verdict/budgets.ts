// A budget file's budgets, by scenario, as the judge takes them (`run` and `check` alike).
import type { Plan } from "../config/types.js";
import type { Budgets, ScenarioBudget } from "./judge.js";

export function budgetsOfPlan(plan: Plan): Budgets {
  return new Map(
    plan.scenarios.map((s): [string, ScenarioBudget] => [
      s.name,
      { budget: s.budget, tolerance: s.tolerance, source: s.source, ...(s.tests ? { tests: s.tests } : {}) },
    ]),
  );
}
