// The Plan: a validated budget file, with every unit parsed and every default filled in.

import type { MetricKey, Runtime } from "../model/metrics.js";
import type { TestRule } from "../model/pytest.js";
import type { SitesMode } from "../model/sites.js";

export type { TestRule };

export interface Scenario {
  name: string;
  description?: string;
  run: string;
  runtime: Runtime;
  /** Absolute working directory. */
  cwd: string;
  env: Record<string, string>;
  /** Seconds. */
  timeout: number;
  repeat: number;
  /** Fraction: 0.02 for 2 %. */
  tolerance: number;
  /** When allocation sites are shown: "auto" (failing scenarios), "always", "traced" (auto, from a tracemalloc run), "never". */
  sites: SitesMode;
  /** With one repeat: "auto" adds the clean run only when a budget needs a figure the probe distorts. */
  cleanRun: "auto" | "always";
  budget: Partial<Record<MetricKey, number>>;
  /** pytest: budgets per test, by node-id glob, in the budget file's order. */
  tests?: TestRule[];
  /** Makes the scenario a service under load (docs/load.md). */
  load?: LoadPlan;
  /** Lines in the budget file, for annotations. */
  source: { line: number; budgetLines: Partial<Record<MetricKey, number>> };
}

export interface Plan {
  /** Absolute path of the budget file. */
  file: string;
  /** "sha256:<hex>" of the budget file's bytes. */
  digest?: string;
  scenarios: Scenario[];
}

/** A load scenario's `load` block resolved: {port} is still in the strings (substituted per run). */
export interface LoadPlan {
  /** Loopback http:// URL polled until it answers below 400. */
  ready: string;
  /** Seconds. */
  readyTimeout: number;
  /** The built-in driver's URL ({i}: the request's number); exactly one of url and drive. */
  url?: string;
  method: "GET" | "POST" | "PUT" | "DELETE" | "PATCH";
  /** The user's own driver, run once per round. */
  drive?: string;
  requests: number;
  concurrency: number;
  rounds: number;
  /** Rounds left out of the slope. */
  warmup: number;
  /** Seconds between SIGTERM and SIGKILL when the service is stopped. */
  grace: number;
}
