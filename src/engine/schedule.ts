// Which runs may share the machine: the probed runs of Python and native scenarios (heap figures
// and counts, which do not depend on timing) run side by side up to `jobs`; every run that gives
// time, RSS or latency (clean runs, Node.js runs, load scenarios) runs alone, after them.
import { availableParallelism } from "node:os";
import type { Scenario } from "../config/types.js";
import {
  assembleRuns,
  type MeasureHooks,
  measureRun,
  measureScenario,
  type RunMeasurement,
  runCount,
  type ScenarioMeasurement,
} from "../measure/scenario.js";

/** The default `jobs`: one per CPU the process may use. */
export function defaultJobs(): number {
  return availableParallelism();
}

/**
 * Whether a scenario's first run may run beside others: an instrumented run whose figures are
 * exact counts and traced peaks. Node.js runs are both probed and timed (and V8's heap figures move
 * with the timing of its collections); load scenarios measure latency.
 */
export function probedRunIsParallel(scenario: Scenario): boolean {
  return scenario.runtime !== "node" && scenario.load === undefined;
}

/**
 * Measures `scenarios` and returns their measurements in the same order, with the same runs as
 * one after another would give. `measureOther` measures a scenario that is not a plain command
 * (a load scenario), alone.
 */
export async function measureScenarios(
  scenarios: Scenario[],
  hooks: MeasureHooks,
  jobs: number,
  measureOther: (scenario: Scenario) => Promise<ScenarioMeasurement> | undefined,
): Promise<ScenarioMeasurement[]> {
  const parallel = scenarios.filter(probedRunIsParallel);
  if (jobs <= 1 || parallel.length <= 1) {
    const out: ScenarioMeasurement[] = [];
    for (const s of scenarios) out.push(await (measureOther(s) ?? measureScenario(s, hooks)));
    return out;
  }
  // First the probed runs, `jobs` at a time.
  const first = new Map<Scenario, RunMeasurement>();
  let next = 0;
  const worker = async () => {
    while (next < parallel.length) {
      const s = parallel[next++]!;
      first.set(s, await measureRun(s, 1, runCount(s, hooks.measure), hooks, true));
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, parallel.length) }, worker));
  // Then every other run, one at a time, in the budget file's order.
  const out: ScenarioMeasurement[] = [];
  for (const s of scenarios) {
    const probed = first.get(s);
    if (!probed) {
      out.push(await (measureOther(s) ?? measureScenario(s, hooks)));
      continue;
    }
    const count = runCount(s, hooks.measure);
    const parts = [probed];
    // A probed run that timed out ends the scenario there, as one run after another does.
    for (let index = 2; index <= count && !parts.at(-1)!.run.timedOut; index++) {
      parts.push(await measureRun(s, index, count, hooks));
    }
    out.push(assembleRuns(parts, hooks));
  }
  return out;
}
