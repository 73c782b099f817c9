// Builds small reports for the pure stages' tests (figures as a run would give them).
import type { MetricKey } from "../../src/model/metrics.js";
import { REPORT_VERSION, type Report, type ScenarioReport } from "../../src/model/report.js";
import { judge } from "../../src/verdict/judge.js";
import { summarise } from "../../src/verdict/summarise.js";

export interface ScenarioSpec {
  name: string;
  runs: Partial<Record<MetricKey, number>>[];
  budget?: Partial<Record<MetricKey, number>>;
  error?: string;
  tolerance?: number;
}

export function scenario(spec: ScenarioSpec): ScenarioReport {
  const summaries = summarise(
    "python",
    spec.runs.map((figures) => ({ figures })),
  );
  const metrics: ScenarioReport["metrics"] = {};
  for (const [k, s] of Object.entries(summaries)) {
    const budget = spec.budget?.[k as MetricKey];
    metrics[k as MetricKey] = { ...s, ...(budget !== undefined ? { budget } : {}), status: "pass" };
  }
  return {
    name: spec.name,
    command: `python3 ${spec.name}.py`,
    runtime: "python",
    cwd: "/repo",
    tolerance: spec.tolerance ?? 0.02,
    status: spec.error ? "error" : "pass",
    ...(spec.error ? { reason: spec.error } : {}),
    metrics,
    runs: spec.runs.map((figures, i) => ({
      index: i + 1,
      exitCode: spec.error ? 1 : 0,
      signal: null,
      timedOut: false,
      figures,
      instrumented: true,
      processes: 1,
      ...(spec.error
        ? { error: spec.error, stderrTail: "Traceback (most recent call last):\nMemoryError\n" }
        : {}),
    })),
    source: { line: 3, budgetLines: {} },
  };
}

export function report(specs: ScenarioSpec[], base?: Report, extra: Partial<Report> = {}): Report {
  const raw: Report = {
    version: REPORT_VERSION,
    tool: { name: "membudget", version: "0.0.0-test" },
    createdAt: "2026-11-25T00:00:00.000Z",
    budgetFile: "membudget.json",
    environment: { os: "linux", arch: "x64", cpus: 2, memory: 2 ** 34, node: "24.0.0", python: "3.11.7" },
    status: "pass",
    summary: "",
    scenarios: specs.map(scenario),
    ...extra,
  };
  return judge(base ? { ...raw, base: { source: "base.json" } } : raw, { base });
}

export const MiB = 1024 * 1024;
