// Reads every input of action.yml and the workflow's event once, into one validated Settings object.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import * as core from "@actions/core";
import { parseShard, type Shard } from "../config/select.js";
import { defaultJobs } from "../engine/schedule.js";
import type { StoredReportsTarget } from "../github/artifacts.js";
import { UsageError } from "../model/errors.js";
import { FAIL_ON, type FailOn } from "../model/status.js";

export const COMMENT_MODES = ["auto", "always", "on-change", "never", "from-report"] as const;

/** When the sticky comment is posted (action.yml's `comment` input). */
export type CommentMode = (typeof COMMENT_MODES)[number];
/** `base`: measure the pull request's base commit; `none`; or a report file made earlier. */
export type Compare = { kind: "base" } | { kind: "none" } | { kind: "report"; path: string };

/**
 * The defaults of action.yml. The runner fills them in, but `node dist/index.js` run by hand (or a
 * test) gets none, so they are applied here too; a test keeps the two in step.
 */
export const INPUT_DEFAULTS = {
  budgets: "membudget.json",
  "working-directory": ".",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub expression, as in action.yml
  "github-token": "${{ github.token }}",
  comment: "auto",
  "fail-on": "over",
  compare: "base",
  "base-artifact": "membudget-report",
  "base-report": "",
  trend: "20",
  jobs: "",
  only: "",
  "report-path": "membudget-report.json",
  key: "",
  shard: "",
  balance: "",
  merge: "",
} as const;

export interface PullRequestInfo {
  number: number;
  baseSha: string;
  headSha: string;
  /** The base branch name, e.g. "main". */
  baseRef: string;
  headRef: string;
  /** The head lives in another repository: the job token is read-only there. */
  fromFork: boolean;
}

export interface WorkflowRunInfo {
  id: number;
  /** The event that triggered the upstream run (e.g. "pull_request"). */
  event: string;
  headSha: string;
  conclusion: string | null;
  /** Empty for runs triggered from forks: GitHub does not fill it in, so the report must carry the number. */
  pullRequestNumbers: number[];
}

export interface GitHubContext {
  /** GITHUB_EVENT_NAME, e.g. pull_request, push, workflow_dispatch, workflow_run. */
  eventName: string;
  owner: string;
  repo: string;
  /** GITHUB_SHA: for pull_request it is the merge commit, not the head. */
  sha: string;
  ref: string;
  apiUrl: string;
  serverUrl: string;
  runId: string;
  runAttempt: string;
  /** Link to the workflow run page (the job summary is shown there). */
  runUrl: string;
  /** GITHUB_JOB: the job's id in the workflow file. */
  job: string;
  workspace: string;
  /** The workflow's file name, from GITHUB_WORKFLOW_REF ("membudget.yml"): its runs hold the stored reports. */
  workflowFile: string;
  /** The repository's default branch, from the event payload (empty when the payload does not say). */
  defaultBranch: string;
  /** Set for pull_request and pull_request_target. */
  pullRequest?: PullRequestInfo;
  /** Set for workflow_run (the fork pull request pattern). */
  workflowRun?: WorkflowRunInfo;
}

export interface Settings {
  /** Absolute path of the budget file. */
  budgets: string;
  /** Absolute path the scenarios run in. */
  workingDirectory: string;
  token: string;
  comment: CommentMode;
  failOn: FailOn;
  compare: Compare;
  /** The artifact of the default branch's push runs that holds the report (empty: never look). */
  baseArtifact: string;
  /** Absolute path of a base report the workflow restored itself. */
  baseReport?: string;
  /** How many stored reports of the default branch the trend is drawn over (0: none). */
  trend: number;
  /** Probed runs measured side by side (the CPU count when the input is empty). */
  jobs: number;
  /** Scenario names to run; empty means all. */
  only: string[];
  /** Absolute path of the JSON report (written, or read with comment: from-report). */
  reportPath: string;
  /** The `key` input as given. */
  key: string;
  /** The sticky comment's identity: the job id, plus the key when there is one. */
  commentKey: string;
  /** Measure only this shard of the selected scenarios (`shard: i/n`). */
  shard?: Shard;
  /** Absolute path of a report whose wall times balance the shards. */
  balance?: string;
  /** A glob of shard reports, relative to the working directory: merge them, measure nothing. */
  merge?: string;
  github: GitHubContext;
}

/** A wrong input value: the message names the input, what it got and what it accepts. */
export class InputError extends UsageError {
  constructor(message: string) {
    super(message);
    this.name = "InputError";
  }
}

type InputName = keyof typeof INPUT_DEFAULTS;

function input(name: InputName): string {
  return core.getInput(name) || INPUT_DEFAULTS[name];
}

function oneOf<T extends string>(
  name: InputName,
  accepted: readonly T[],
  aliases: Record<string, T> = {},
): T {
  const value = input(name).toLowerCase();
  if ((accepted as readonly string[]).includes(value)) return value as T;
  const alias = aliases[value];
  if (alias) return alias;
  throw new InputError(
    `Input \`${name}\` is "${core.getInput(name)}"; it accepts ${accepted.map((a) => `\`${a}\``).join(", ")}.`,
  );
}

/**
 * Reads and validates all inputs (INPUT_* variables, through @actions/core) and the event, then takes
 * the INPUT_* variables out of this process's environment (forgetInputs). Throws InputError with a
 * message meant for the user.
 */
/** Where this workflow's push runs keep their reports: the stored base and the trend read them. */
export function storedReportsTarget(settings: Settings): StoredReportsTarget {
  const { github } = settings;
  return {
    token: settings.token,
    apiUrl: github.apiUrl,
    owner: github.owner,
    repo: github.repo,
    ...(github.workflowFile ? { workflow: github.workflowFile } : {}),
    artifact: settings.baseArtifact,
  };
}

export function readSettings(): Settings {
  const settings = readInputs();
  forgetInputs(process.env);
  return settings;
}

/**
 * The runner hands a step its `with:` values as INPUT_* variables, `github-token` among them. They
 * are the Action's, not the workloads': a workload inherits membudget's environment, and it is the
 * pull request's code. Read once, they go (bash passes even `INPUT_GITHUB-TOKEN` on; dash drops it).
 * A workload that needs a variable of that name sets it in the scenario's `env`.
 */
export function forgetInputs(env: NodeJS.ProcessEnv): void {
  for (const name of Object.keys(env)) if (name.startsWith("INPUT_")) delete env[name];
}

function readInputs(): Settings {
  const env = process.env;
  const github = readGitHubContext(env);
  const workingDirectory = path.resolve(github.workspace, input("working-directory"));
  if (!existsSync(workingDirectory)) {
    throw new InputError(
      `Input \`working-directory\` is "${input("working-directory")}": ${workingDirectory} does not exist.`,
    );
  }
  const inWorkingDirectory = (p: string) => path.resolve(workingDirectory, p);

  // The runner substitutes `${{ github.token }}`; when run by hand the literal default arrives.
  const rawToken = input("github-token");
  const token = rawToken.startsWith("${{") ? (env["GITHUB_TOKEN"] ?? "") : rawToken;
  if (token) core.setSecret(token);

  const key = input("key").trim();
  const shardText = input("shard").trim();
  const shard = shardText ? parseShard(shardText, "Input `shard`") : undefined;
  const balance = input("balance").trim();
  const merge = input("merge").trim();
  const baseReport = input("base-report").trim();
  if (baseReport && !existsSync(inWorkingDirectory(baseReport))) {
    throw new InputError(
      `Input \`base-report\` is "${baseReport}": ${inWorkingDirectory(baseReport)} does not exist. Restore the report before this step, or leave the input empty to look for \`base-artifact\`.`,
    );
  }
  if (balance && !shard) {
    throw new InputError("Input `balance` needs `shard` (i/n): it balances the split of the shards.");
  }
  if (merge && shard) {
    throw new InputError(
      "Inputs `merge` and `shard` are both set: a shard measures, the merging job measures nothing. Set `merge` only in the job after the matrix.",
    );
  }
  return {
    budgets: inWorkingDirectory(input("budgets")),
    workingDirectory,
    token,
    comment: oneOf("comment", COMMENT_MODES),
    // An early design spelled it "regression": accept that too.
    failOn: oneOf("fail-on", FAIL_ON, { regression: "regressed" }),
    compare: readCompare(input("compare").trim(), inWorkingDirectory),
    baseArtifact: input("base-artifact").trim(),
    ...(baseReport ? { baseReport: inWorkingDirectory(baseReport) } : {}),
    trend: readCount("trend", 0),
    jobs: input("jobs").trim() ? readCount("jobs", 1) : defaultJobs(),
    only: splitNames(core.getMultilineInput("only")),
    reportPath: inWorkingDirectory(input("report-path")),
    key,
    commentKey: key ? `${github.job}/${key}` : github.job,
    ...(shard ? { shard } : {}),
    ...(balance ? { balance: inWorkingDirectory(balance) } : {}),
    ...(merge ? { merge } : {}),
    github,
  };
}

function readCompare(value: string, resolve: (p: string) => string): Compare {
  const word = value.toLowerCase();
  if (word === "base") return { kind: "base" };
  if (word === "none" || word === "false" || word === "") return { kind: "none" };
  const file = resolve(value);
  // A bare word that is no file is far more likely a typo ("bsae") than a report's path.
  if (!/[./\\]/.test(value) && !existsSync(file)) {
    throw new InputError(
      `Input \`compare\` is "${value}"; it accepts \`base\`, \`none\`, or the path of a report file (${file} does not exist).`,
    );
  }
  return { kind: "report", path: file };
}

function readCount(name: InputName, least: number): number {
  const text = input(name).trim();
  if (!/^\d+$/.test(text) || Number(text) < least) {
    throw new InputError(
      `Input \`${name}\` is "${core.getInput(name)}"; it accepts a whole number${least > 0 ? ` of at least ${least}` : ""}.`,
    );
  }
  return Number(text);
}

function splitNames(lines: string[]): string[] {
  const names = lines.flatMap((line) => line.split(",")).map((name) => name.trim());
  return [...new Set(names.filter(Boolean))];
}

/**
 * The workflow context from the runner's environment and event payload. @actions/github's
 * `context` is not used: it reads the environment once, at import, which tests cannot change.
 */
export function readGitHubContext(env: NodeJS.ProcessEnv = process.env): GitHubContext {
  const repository = env["GITHUB_REPOSITORY"] ?? "";
  const [owner = "", repo = ""] = repository.split("/");
  const serverUrl = (env["GITHUB_SERVER_URL"] || "https://github.com").replace(/\/+$/, "");
  const runId = env["GITHUB_RUN_ID"] ?? "";
  const runAttempt = env["GITHUB_RUN_ATTEMPT"] ?? "";
  const eventName = env["GITHUB_EVENT_NAME"] ?? "";
  const payload = readPayload(env["GITHUB_EVENT_PATH"]);

  const context: GitHubContext = {
    eventName,
    owner,
    repo,
    sha: env["GITHUB_SHA"] ?? "",
    ref: env["GITHUB_REF"] ?? "",
    apiUrl: (env["GITHUB_API_URL"] || "https://api.github.com").replace(/\/+$/, ""),
    serverUrl,
    runId,
    runAttempt,
    runUrl:
      repository && runId
        ? `${serverUrl}/${repository}/actions/runs/${runId}${runAttempt && runAttempt !== "1" ? `/attempts/${runAttempt}` : ""}`
        : "",
    job: env["GITHUB_JOB"] ?? "",
    workflowFile: workflowFileOf(env["GITHUB_WORKFLOW_REF"] ?? ""),
    defaultBranch: str(obj(payload?.["repository"])["default_branch"]),
    workspace: env["GITHUB_WORKSPACE"] || process.cwd(),
  };

  if ((eventName === "pull_request" || eventName === "pull_request_target") && payload) {
    context.pullRequest = readPullRequest(payload, env["GITHUB_EVENT_PATH"] ?? "");
  }
  if (eventName === "workflow_run" && payload) {
    context.workflowRun = readWorkflowRun(payload);
  }
  return context;
}

type Json = Record<string, unknown>;

/** "o/r/.github/workflows/membudget.yml@refs/pull/2/merge" → "membudget.yml". */
function workflowFileOf(ref: string): string {
  const m = ref.match(/\/\.github\/workflows\/([^@/]+)@/);
  return m?.[1] ?? "";
}

function readPayload(file: string | undefined): Json | undefined {
  if (!file) return undefined;
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new InputError(
      `Cannot read the event payload GITHUB_EVENT_PATH=${file}: ${(error as Error).message}`,
    );
  }
  try {
    return JSON.parse(text) as Json;
  } catch (error) {
    throw new InputError(`The event payload ${file} is not JSON: ${(error as Error).message}`);
  }
}

const obj = (v: unknown): Json => (v && typeof v === "object" ? (v as Json) : {});
const str = (v: unknown): string => (typeof v === "string" ? v : "");

function readPullRequest(payload: Json, file: string): PullRequestInfo {
  const pr = obj(payload["pull_request"]);
  const base = obj(pr["base"]);
  const head = obj(pr["head"]);
  const number = typeof pr["number"] === "number" ? pr["number"] : payload["number"];
  if (typeof number !== "number" || !str(base["sha"]) || !str(head["sha"])) {
    throw new InputError(
      `The event payload ${file} has no pull_request.number, base.sha and head.sha, although the event is a pull request.`,
    );
  }
  // A deleted fork shows up as head.repo = null: still not writable from here.
  const headRepo = str(obj(head["repo"])["full_name"]);
  const baseRepo = str(obj(base["repo"])["full_name"]);
  return {
    number,
    baseSha: str(base["sha"]),
    headSha: str(head["sha"]),
    baseRef: str(base["ref"]),
    headRef: str(head["ref"]),
    fromFork: !headRepo || headRepo.toLowerCase() !== baseRepo.toLowerCase(),
  };
}

function readWorkflowRun(payload: Json): WorkflowRunInfo {
  const run = obj(payload["workflow_run"]);
  const prs = Array.isArray(run["pull_requests"]) ? run["pull_requests"] : [];
  return {
    id: typeof run["id"] === "number" ? run["id"] : 0,
    event: str(run["event"]),
    headSha: str(run["head_sha"]),
    conclusion: typeof run["conclusion"] === "string" ? run["conclusion"] : null,
    pullRequestNumbers: prs.map((p) => obj(p)["number"]).filter((n): n is number => typeof n === "number"),
  };
}
