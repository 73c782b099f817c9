// The Plan: a validated budget file, with every unit parsed and every default filled in.

import type { MetricKey, Runtime } from "../model/metrics.js";
import type { SitesMode } from "../model/sites.js";
import type { TestMetricKey } from "../model/tests.js";

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
  /** When the attribution run finds allocation sites: "auto" (failing scenarios), "always", "never". */
  sites: SitesMode;
  budget: Partial<Record<MetricKey, number>>;
  /** pytest: budgets per test, by node-id glob, in the budget file's order. */
  tests?: TestRule[];
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

/** Budgets for the tests whose node id matches `pattern` (`*` any run of characters, `?` one). */
export interface TestRule {
  pattern: string;
  /** The pattern is a node id, not a glob (budgets carried over from a stored report). */
  exact?: boolean;
  budget: Partial<Record<TestMetricKey, number>>;
  /** Line of the pattern in the budget file. */
  line: number;
}
