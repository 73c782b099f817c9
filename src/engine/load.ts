// The engine's part of load scenarios (docs/load.md): each run's retained-per-request slope from
// its rounds, the scenario's load summary, and the attribution run that names the leaking lines.
import type { Scenario } from "../config/types.js";
import type { MeasureHooks, ScenarioMeasurement } from "../measure/scenario.js";
import { relativeSites, repositoryRoot, SITE_LIMIT } from "../measure/sites.js";
import type { Run } from "../measure/types.js";
import type { ScenarioReport } from "../model/report.js";
import { judgeRounds, LEAK_FLOOR, loadSummaryOf } from "../verdict/load.js";

type LoadScenario = Scenario & { load: NonNullable<Scenario["load"]> };

export function isLoad(scenario: Scenario): scenario is LoadScenario {
  return scenario.load !== undefined;
}

/** The driver and the round protocol are loaded only when a budget file has a load scenario. */
export async function measureLoad(scenario: LoadScenario, hooks: MeasureHooks): Promise<ScenarioMeasurement> {
  const { measureLoadScenario } = await import("../measure/load/measure.js");
  const measured = await measureLoadScenario(scenario, hooks);
  return { ...measured, runs: measured.runs.map((run) => withSlope(run, scenario.load.warmup)) };
}

/** A run's retainedPerRequest: the Theil–Sen slope of its rounds after warm-up. */
function withSlope(run: Run, warmup: number): Run {
  if (!run.rounds || run.error) return run;
  const { slope } = judgeRounds(run.rounds, warmup);
  if (slope === undefined) return run;
  return { ...run, figures: { ...run.figures, retainedPerRequest: slope } };
}

export function loadSummary(scenario: LoadScenario, runs: Run[]): ScenarioReport["load"] {
  const { load } = scenario;
  return loadSummaryOf(
    runs,
    {
      driver: load.url ? "http" : "drive",
      requests: load.requests,
      ...(load.url ? { concurrency: load.concurrency } : {}),
      rounds: load.rounds,
      warmup: load.warmup,
    },
    LEAK_FLOOR,
  );
}

/**
 * Whether a judged load scenario gets its attribution run: as for any scenario, when it broke a
 * budget or regressed ("auto"; a leak over its retainedPerRequest budget is "over"), or always.
 * A slope the budget allows is the user's to allow: no extra run for it.
 */
export function wantsLoadSites(scenario: Scenario, s: ScenarioReport): boolean {
  if (scenario.sites === "never" || s.status === "error" || s.status === "removed") return false;
  if (scenario.sites === "always") return true;
  return s.status === "over" || s.status === "regressed";
}

/** The scenario's report with the sites that grew after warm-up (paths relative to the repository). */
export async function attributeLoad(
  scenario: LoadScenario,
  s: ScenarioReport,
  planDir: string,
  hooks: MeasureHooks,
  limit = SITE_LIMIT,
): Promise<ScenarioReport> {
  const { loadAttributionRun } = await import("../measure/load/measure.js");
  const found = await loadAttributionRun(scenario, hooks, { limit });
  const out: ScenarioReport = { ...s };
  if (found.error) out.notes = [...(s.notes ?? []), `allocation sites unavailable: ${found.error}`];
  if (found.retained && found.retained.length > 0) {
    const root = repositoryRoot(scenario.cwd, planDir);
    out.sites = { ...s.sites, retained: relativeSites(found.retained, root) };
  }
  return out;
}
