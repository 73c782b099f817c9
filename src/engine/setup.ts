// What produced a scenario's figures (command, place, environment, interpreter, machine, probe,
// settings): kept in the report so that a later run can tell whether they are still its own.
import { arch, platform } from "node:os";
import { dirname, relative, sep } from "node:path";
import type { Scenario } from "../config/types.js";
import { probeVersion } from "../measure/probe-version.js";
import type { Run } from "../measure/types.js";
import type { ScenarioSetup } from "../model/report.js";

/**
 * The setup of a measured scenario. The working directory is kept relative to the budget file's
 * folder, which is the same place in every checkout of the repository (a runner's workspace, a
 * base worktree). The interpreter is what the probes saw run, not what PATH might offer.
 */
export function scenarioSetup(scenario: Scenario, runs: Run[], budgetFile: string): ScenarioSetup {
  const cwd = relative(dirname(budgetFile), scenario.cwd).split(sep).join("/") || ".";
  const interpreters = new Set<string>();
  for (const run of runs) {
    for (const p of run.processes) {
      const python = p.extra?.["python"];
      const node = p.extra?.["node"];
      if (p.probe === "python" && typeof python === "string") interpreters.add(`python ${python}`);
      if (p.probe === "node" && typeof node === "string") interpreters.add(`node ${node.replace(/^v/, "")}`);
    }
  }
  const settings: ScenarioSetup["settings"] = {
    repeat: scenario.repeat,
    cleanRun: scenario.cleanRun,
    ...(scenario.load ? { load: scenario.load } : {}),
  };
  return {
    command: scenario.run,
    cwd,
    env: Object.fromEntries(Object.entries(scenario.env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    runtime: scenario.runtime,
    ...(interpreters.size > 0 ? { interpreter: [...interpreters].sort().join(", ") } : {}),
    platform: platformOf(process.env),
    probe: probeVersion(),
    settings,
  };
}

/**
 * OS, runner image and architecture: "linux ubuntu24 x64". The runner image (GitHub sets ImageOS)
 * decides the C library and the system Python; the kernel's release, which changes under hosted
 * runners from week to week, is left out.
 */
export function platformOf(env: NodeJS.ProcessEnv): string {
  const image = env["ImageOS"];
  return [platform(), image, arch()].filter(Boolean).join(" ");
}
