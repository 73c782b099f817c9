// The Report: the one versioned document every renderer, `compare` and `merge` read.
import type { FigureKind, MetricKey, Runtime } from "./metrics.js";
import type { TestReport, TestRule, TestSummary } from "./pytest.js";
import type { Status } from "./status.js";

export const REPORT_VERSION = 1;

export interface MetricSummary {
  /** Median over the runs that produced the figure. */
  value: number;
  min: number;
  max: number;
  /** (max − min) ÷ median: the run-to-run noise of this figure. */
  spread: number;
  /** How many runs produced it. */
  runs: number;
  kind: FigureKind;
  /** True when the figure is the same on every run of a deterministic program (counts, traced peaks). */
  deterministic: boolean;
  budget?: number;
  /** The base's figures; `runs` lets a later judgement (of a merged report) tell noise as this one did. */
  base?: { value: number; min: number; max: number; runs?: number };
  /** (value − base) ÷ base. */
  delta?: number;
  status: Status;
  /** One sentence why, for anything but pass. */
  reason?: string;
}

/** One execution of a scenario, as the report keeps it. */
export interface RunRecord {
  /** 1-based index among the scenario's runs. */
  index: number;
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** Set when the run cannot be trusted: crash, non-zero exit, timeout, no figures. */
  error?: string;
  /** Whole-tree figures plus the per-process figures combined (sums, largest single process's peak). */
  figures: Partial<Record<MetricKey, number>>;
  /** False for a clean run: no allocation probe, so wall time and RSS are undisturbed. */
  instrumented: boolean;
  processes: number;
  stdoutTail?: string;
  stderrTail?: string;
  /** Load scenarios: the figures at the end of each round. */
  rounds?: LoadRound[];
}

/** One round of a load scenario (docs/load.md): the figures at its end. */
export interface LoadRound {
  /** 1-based. */
  round: number;
  /** Requests answered since the start, at the round's end. */
  requests: number;
  /** Bytes the service's probed processes held after a full collection at the round's end, summed. */
  retained?: number;
  /** Requests of the round that failed (no answer, or a status of 400 or more). */
  errors: number;
  /** Seconds the round's requests took. */
  seconds: number;
}

/** How a load scenario was driven, and what its rounds retained. */
export interface LoadSummary {
  /** "http": the built-in driver; "drive": the user's own command, once per round. */
  driver: "http" | "drive";
  requests: number;
  concurrency?: number;
  rounds: number;
  warmup: number;
  /** The rounds of one run (`run`): the first that gave a retained figure every round. */
  perRound: LoadRound[];
  run: number;
  /** The leak rule held (in most runs): grew in every round after warm-up, slope above the floor. */
  leak: boolean;
  /** Bytes per request below which a slope is never a leak. */
  floor: number;
  /** The rule's finding in a sentence. */
  why: string;
}

export interface Site {
  /** "path/relative/to/repo.py:42" */
  location: string;
  function?: string;
  bytes: number;
  count?: number;
  stack?: string[];
  /** Load scenarios: bytes the site kept per request between the end of warm-up and the last round. */
  perRequest?: number;
  /** Sampled sites: one standard error of `bytes` (an unbiased estimate). */
  error?: number;
  /** The innermost library frame, when `location` is the user's own frame above it. */
  context?: string;
  /** The source line's text at `location` (whitespace collapsed): base and head are matched by it. */
  code?: string;
}

/** A site matched against the base: `bytes` at the head, `baseBytes` at the base (0: not among the base's sites). */
export type SiteGrowth = Site & { baseBytes: number; baseError?: number };

export interface TimelinePoint {
  /** Seconds since the start of the run. */
  t: number;
  rss: number;
  heap?: number;
}

/** What produced a scenario's figures: a stored report's figures are reused only when all of it matches. */
export interface ScenarioSetup {
  command: string;
  /** The working directory relative to the budget file's folder ("/"-separated). */
  cwd: string;
  /** The scenario's own `env`, keys sorted. */
  env: Record<string, string>;
  runtime: Runtime;
  /** What the probes saw run: "python 3.12.1", "node 24.9.0" (several, comma-separated). */
  interpreter?: string;
  /** OS, runner image and architecture: "linux ubuntu24 x64". */
  platform: string;
  /** membudget's version and the probe files' digest: "0.1.0+3f2a…". */
  probe: string;
  /** The budget entry's settings that change what is measured. */
  settings: { repeat: number; cleanRun: string; load?: unknown };
}

/** One commit of the default branch in a trend: the figure its stored report has. */
export interface TrendPoint {
  commit: string;
  value: number;
  /** The run that stored the report (a link). */
  run?: string;
}

/** Where a scenario's base figures came from. */
export interface BaseOrigin {
  /** "report": reused from the base commit's stored report; "measured": measured here at the base. */
  from: "report" | "measured";
  /** The run that stored the report (a link). */
  run?: string;
  /** Why the scenario was measured at the base rather than reused, in a phrase. */
  why?: string;
}

export interface ScenarioReport {
  name: string;
  command: string;
  runtime: Runtime;
  cwd: string;
  /** Growth against the base that counts as a regression (fraction). */
  tolerance: number;
  status: Status;
  /** Why the scenario has its status, in a sentence (for error: what went wrong). */
  reason?: string;
  metrics: Partial<Record<MetricKey, MetricSummary>>;
  /** Budgeted metrics that no probe could measure, with why. */
  unavailable?: Partial<Record<MetricKey, string>>;
  runs: RunRecord[];
  /** What produced the figures (absent in reports of older versions). */
  setup?: ScenarioSetup;
  /**
   * A regressed or failing scenario's figures over the default branch's last stored reports, oldest
   * first, for each metric that regressed or went over budget.
   */
  trend?: { branch: string; metrics: Partial<Record<MetricKey, TrendPoint[]>> };
  /** Where the base figures came from, when the base was assembled scenario by scenario. */
  baseOrigin?: BaseOrigin;
  /**
   * The budgets the judgement applied (absent in reports of versions before 0.2: judging one again
   * reads its metrics' `budget`). Judging again (`compare`, `check` without a budget file's change)
   * reads these, so a budget whose metric has no figure, and every per-test rule, is kept.
   */
  applied?: AppliedBudgets;
  /** Where in the budget file the scenario and its budgets are (for annotations). */
  source?: { line: number; budgetLines: Partial<Record<MetricKey, number>> };
  /** RSS of the tree (and heap, where a probe gives it) over the run: t in seconds from the start. */
  timeline?: TimelinePoint[];
  /** The base scenario's timeline, copied in by the judgement so charts draw both from one report. */
  baseTimeline?: TimelinePoint[];
  sites?: {
    /** Sites holding the most memory at (or close to) the peak. */
    peak?: Site[];
    /** Sites that allocated most over the run. */
    allocated?: Site[];
    /** Load scenarios: the sites whose live bytes grew most between warm-up's end and the last round. */
    retained?: Site[];
    /** Sites that grew most against the base, largest growth first (set by the judgement). */
    diff?: SiteGrowth[];
    /** Which list the diff compares. */
    diffOf?: "peak" | "allocated";
    /** sampled: from the measured run, blocks sampled by bytes; traced: an extra run tracing every block. */
    method?: "sampled" | "traced";
    /** Sampled sites: mean bytes between two samples. */
    interval?: number;
  };
  /** Load scenarios: how the service was driven and what it kept, round by round. */
  load?: LoadSummary;
  notes?: string[];
  /** pytest scenarios: every failing or regressed test, new and removed ones, the top 20 by peak heap. */
  tests?: TestReport[];
  /** Over all the scenario's tests, listed or not. */
  testSummary?: TestSummary;
}

/** A scenario's budgets as the judgement applied them (base units). */
export interface AppliedBudgets {
  /** Every budget of the scenario, those on a metric without a figure included. */
  budget: Partial<Record<MetricKey, number>>;
  /** pytest: the budget file's per-test rules, in its order (a test's own marker is in its entry). */
  tests?: TestRule[];
}

/** Which part of a sharded run a report is (`run --shard i/n`). */
export interface ShardInfo {
  index: number;
  total: number;
  /** Every scenario the run selected, before the split, in the budget file's order. */
  selected: string[];
  /** The shard that measures each of `selected` (1…total), position by position. */
  assigned: number[];
  /** The report whose wall times balanced the split (`--balance`), as the user named it. */
  balance?: string;
}

/**
 * Where a report comes from, as the adapter that makes it knows it (the CLI, the Action, a merge):
 * built in one place by each and put in the report as it is made.
 */
export interface Provenance {
  /** The budget file as the user named it. */
  budgetFile?: string;
  /** The commit measured. */
  commit?: string;
  /** The base report as the user named it ("main-report.json", "base 1a2b3c4"). */
  baseSource?: string;
  links?: Report["links"];
  pullRequest?: Report["pullRequest"];
  /** Said in the report besides the measurement's own notes (e.g. why there is no base). */
  notes?: string[];
}

export interface Report {
  version: typeof REPORT_VERSION;
  tool: { name: "membudget"; version: string };
  createdAt: string;
  budgetFile: string;
  /** "sha256:<hex>" of the budget file's bytes: the shards of one run must agree on it. */
  budgetDigest?: string;
  commit?: string;
  shard?: ShardInfo;
  /** A merged report: the shards it was made from (of `total`). */
  shards?: { total: number; merged: number[] };
  /** What keeps the report from being whole ("shard 2 of 4: no report"): the run fails with it. */
  error?: string;
  /** The pull request the run was for: lets a later `workflow_run` job post the comment from this file. */
  pullRequest?: {
    number: number;
    repository: string;
    baseSha?: string;
    headSha?: string;
    commentKey?: string;
  };
  environment: {
    os: string;
    arch: string;
    cpus: number;
    cpuModel?: string;
    memory: number;
    node: string;
    python?: string;
  };
  status: Status;
  /** The verdict in words: "2 of 14 scenarios over budget". */
  summary: string;
  base?: { source: string; commit?: string; createdAt?: string };
  /** Where the run can be seen, when it ran on GitHub Actions. */
  links?: { run?: string; summary?: string; repository?: string };
  scenarios: ScenarioReport[];
  notes?: string[];
}
