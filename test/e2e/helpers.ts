// Runs dist/index.js the way a GitHub Actions runner does, in git repositories the end-to-end tests build.
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { actionInputs } from "../docs/github-parser.js";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const ACTION = path.join(ROOT, "dist", "index.js");
const FIXTURES = path.join(ROOT, "test", "fixtures");

/** A file under test/fixtures/e2e (or test/fixtures/github for payloads), as text. */
export function fixture(name: string): string {
  return readFileSync(path.join(FIXTURES, "e2e", name), "utf8");
}

function githubFixture(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(FIXTURES, "github", name), "utf8")) as Record<string, unknown>;
}

// Commits must not depend on the machine's git identity or settings (CI runners have neither).
const GIT_ENV: NodeJS.ProcessEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: "membudget e2e",
  GIT_AUTHOR_EMAIL: "e2e@membudget.invalid",
  GIT_COMMITTER_NAME: "membudget e2e",
  GIT_COMMITTER_EMAIL: "e2e@membudget.invalid",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_TERMINAL_PROMPT: "0",
};

export function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", args, { cwd, env: GIT_ENV, encoding: "utf8", stdio: "pipe" }).trim();
}

/** One commit: repository path → file content, or null to delete the file. */
export type Tree = Record<string, string | null>;

/** Creates the "origin" repository with one commit per tree, on branch main; returns their shas. */
export function makeOrigin(dir: string, commits: Tree[]): string[] {
  mkdirSync(dir, { recursive: true });
  git(dir, "init", "-q", "-b", "main");
  return commits.map((tree, i) => {
    for (const [file, text] of Object.entries(tree)) {
      if (text === null) git(dir, "rm", "-q", file);
      else {
        mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
        writeFileSync(path.join(dir, file), text);
      }
    }
    git(dir, "add", "-A");
    git(dir, "commit", "-q", "-m", `commit ${i + 1}`);
    return git(dir, "rev-parse", "HEAD");
  });
}

/** What actions/checkout does by default: a depth-1 clone of the commit under test. */
export function checkoutShallow(origin: string, dest: string): string {
  // file:// (not a plain path) so that --depth is honoured, as over the network.
  git(path.dirname(dest), "clone", "-q", "--depth=1", `file://${origin}`, dest);
  return dest;
}

export const PULL_REQUEST = githubFixture("pull_request.synchronize.json") as {
  number: number;
  repository: { full_name: string; [k: string]: unknown };
  pull_request: { number: number; base: { sha: string }; head: { sha: string }; [k: string]: unknown };
};
/** The repository of the fixture payloads: GITHUB_REPOSITORY must match it, as on a runner. */
export const REPOSITORY = PULL_REQUEST.repository.full_name;
export const [OWNER, REPO] = REPOSITORY.split("/") as [string, string];

/** The real `synchronize` payload, pointed at this test's pull request number and commits. */
export function pullRequestPayload(pr: { number: number; baseSha: string; headSha: string }): unknown {
  const payload = structuredClone(PULL_REQUEST);
  payload.number = pr.number;
  payload.pull_request.number = pr.number;
  payload.pull_request.base.sha = pr.baseSha;
  payload.pull_request.head.sha = pr.headSha;
  return payload;
}

/**
 * The real `workflow_run.completed` payload, as the fork pattern's second workflow receives it: the
 * upstream run was a pull_request run in the same repository. `pull_requests` is empty, as GitHub
 * sends it for runs from forks: the pull request number must come from the report.
 */
export function workflowRunPayload(run: { id: number; headSha: string }): unknown {
  const payload = structuredClone(githubFixture("workflow_run.completed.json")) as Record<string, unknown> & {
    workflow_run: Record<string, unknown>;
  };
  payload["repository"] = structuredClone(PULL_REQUEST.repository);
  payload.workflow_run["id"] = run.id;
  payload.workflow_run["event"] = "pull_request";
  payload.workflow_run["head_sha"] = run.headSha;
  payload.workflow_run["pull_requests"] = [];
  payload.workflow_run["repository"] = structuredClone(PULL_REQUEST.repository);
  return payload;
}

export function pushPayload(after: string): unknown {
  const payload = JSON.parse(fixture("push.json")) as Record<string, unknown> & {
    head_commit: { id: string };
  };
  payload["after"] = after;
  payload.head_commit.id = after;
  return payload;
}

/** A workflow command the step printed, e.g. `::error file=a.json,line=3::message`. */
export interface WorkflowCommand {
  command: string;
  properties: Record<string, string>;
  message: string;
}

export interface ActionRun {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** GITHUB_OUTPUT, parsed. */
  outputs: Record<string, string>;
  /** GITHUB_STEP_SUMMARY's content. */
  summary: string;
  commands: WorkflowCommand[];
}

export interface RunOptions {
  /** GITHUB_WORKSPACE, and the step's working directory. */
  workspace: string;
  /** Where this step's runner files (event payload, GITHUB_OUTPUT, summary, RUNNER_TEMP) go. */
  runnerDir: string;
  /** GITHUB_EVENT_NAME: pull_request, push, workflow_run, or any other event. */
  event: string;
  payload: unknown;
  /** `with:` of the step; the others get action.yml's defaults, as the runner passes them. */
  inputs: Record<string, string>;
  apiUrl: string;
  runId: number;
  job?: string;
  sha?: string;
  ref?: string;
  /** GITHUB_OUTPUT and GITHUB_STEP_SUMMARY elsewhere (e.g. /dev/full, a full disk): not created, not read. */
  outputFile?: string;
  summaryFile?: string;
  /** Called once the step's process is started, with its RUNNER_TEMP (and TMPDIR), e.g. to cancel it. */
  onStart?: (child: ChildProcess, temp: string) => void;
}

export const TOKEN = "ghs_e2eTokenNotReal0123456789abcdefABCD";

/**
 * The INPUT_* variables the runner gives a step of this action: every input action.yml declares (read
 * by GitHub's parser), with its default where `with:` leaves it out, and `${{ github.token }}`
 * evaluated to the job's token. Names are upper-cased, spaces become `_`, hyphens stay:
 * `github-token` → `INPUT_GITHUB-TOKEN`.
 */
export async function inputEnvironment(withInputs: Record<string, string>): Promise<Record<string, string>> {
  const declared = await actionInputs("action.yml", readFileSync(path.join(ROOT, "action.yml"), "utf8"));
  // The runner only warns about an undeclared input and passes it on; in a test it is a typo.
  const unknown = Object.keys(withInputs).filter((name) => !declared.has(name));
  if (unknown.length > 0) throw new Error(`action.yml declares no input ${unknown.join(", ")}`);
  const values = new Map<string, string>();
  for (const [name, fallback] of declared) {
    if ("literal" in fallback) values.set(name, fallback.literal);
    else if (fallback.expression === "github.token") values.set(name, TOKEN);
    else
      throw new Error(
        `action.yml: input ${name}: this runner cannot evaluate \${{ ${fallback.expression} }}`,
      );
  }
  for (const [name, value] of Object.entries(withInputs)) values.set(name, value);
  const env: Record<string, string> = {};
  for (const [name, value] of values) env[`INPUT_${name.replace(/ /g, "_").toUpperCase()}`] = value;
  return env;
}

let stepCount = 0;

/** Runs `node dist/index.js` with the environment a runner gives a `uses:` step. */
export async function runAction(options: RunOptions): Promise<ActionRun> {
  const step = path.join(options.runnerDir, `step-${++stepCount}`);
  const temp = path.join(step, "temp");
  mkdirSync(temp, { recursive: true });
  const eventPath = path.join(step, "event.json");
  const outputPath = options.outputFile ?? path.join(step, "output.txt");
  const summaryPath = options.summaryFile ?? path.join(step, "step_summary.md");
  writeFileSync(eventPath, JSON.stringify(options.payload, null, 2));
  // The runner creates both files empty before the step starts.
  if (!options.outputFile) writeFileSync(outputPath, "");
  if (!options.summaryFile) writeFileSync(summaryPath, "");

  const env: NodeJS.ProcessEnv = {
    ...(await inputEnvironment(options.inputs)),
    // Only what a workload needs from this machine; nothing else leaks in (e.g. GITHUB_* of an outer CI job).
    PATH: process.env["PATH"],
    HOME: process.env["HOME"],
    ...pick("PYENV_ROOT", "PYENV_VERSION", "LANG", "MEMBUDGET_CACHE_DIR"),
    TMPDIR: temp,
    CI: "true",
    GITHUB_ACTIONS: "true",
    RUNNER_OS: "Linux",
    RUNNER_TEMP: temp,
    GITHUB_ACTION: "__self",
    GITHUB_ACTION_PATH: ROOT,
    GITHUB_EVENT_NAME: options.event,
    GITHUB_EVENT_PATH: eventPath,
    GITHUB_REPOSITORY: REPOSITORY,
    GITHUB_REPOSITORY_OWNER: OWNER,
    GITHUB_WORKSPACE: options.workspace,
    GITHUB_OUTPUT: outputPath,
    GITHUB_STEP_SUMMARY: summaryPath,
    GITHUB_API_URL: options.apiUrl,
    GITHUB_SERVER_URL: "https://github.com",
    GITHUB_GRAPHQL_URL: `${options.apiUrl}/graphql`,
    GITHUB_RUN_ID: String(options.runId),
    GITHUB_RUN_ATTEMPT: "1",
    GITHUB_RUN_NUMBER: "7",
    GITHUB_JOB: options.job ?? "measure",
    GITHUB_SHA: options.sha ?? "",
    GITHUB_REF: options.ref ?? "",
    GITHUB_WORKFLOW: "membudget",
    GITHUB_WORKFLOW_REF: `${REPOSITORY}/.github/workflows/membudget.yml@${options.ref || "refs/heads/main"}`,
  };

  // Asynchronous on purpose: the fake GitHub API answers from this same process.
  const child = spawn(process.execPath, [ACTION], {
    cwd: options.workspace,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  options.onStart?.(child, temp);
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  const exitCode = await new Promise<number | null>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => resolve(code));
  });
  return {
    exitCode,
    stdout,
    stderr,
    outputs: options.outputFile ? {} : parseOutputFile(readFileSync(outputPath, "utf8")),
    summary: options.summaryFile ? "" : readFileSync(summaryPath, "utf8"),
    commands: parseWorkflowCommands(stdout),
  };
}

function pick(...names: string[]): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const name of names) if (process.env[name] !== undefined) out[name] = process.env[name];
  return out;
}

/** GITHUB_OUTPUT as the runner reads it: `name=value` lines and `name<<DELIMITER` … `DELIMITER` blocks. */
export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {};
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === "") continue;
    const heredoc = line.match(/^([^=<]+)<<(.+)$/);
    if (heredoc) {
      const [, name, delimiter] = heredoc as unknown as [string, string, string];
      const end = lines.indexOf(delimiter, i + 1);
      if (end < 0) throw new Error(`GITHUB_OUTPUT: no closing ${delimiter} for ${name}`);
      outputs[name] = lines.slice(i + 1, end).join("\n");
      i = end;
      continue;
    }
    const eq = line.indexOf("=");
    if (eq <= 0) throw new Error(`GITHUB_OUTPUT: cannot read line ${JSON.stringify(line)}`);
    outputs[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return outputs;
}

/** Workflow commands in a step's output, with the runner's escaping undone. */
export function parseWorkflowCommands(stdout: string): WorkflowCommand[] {
  const unescapeData = (s: string) => s.replace(/%0D/g, "\r").replace(/%0A/g, "\n").replace(/%25/g, "%");
  const unescapeProperty = (s: string) => unescapeData(s.replace(/%3A/g, ":").replace(/%2C/g, ","));
  const commands: WorkflowCommand[] = [];
  for (const line of stdout.split(/\r?\n/)) {
    const m = line.match(/^::([a-z-]+)(?: ([^:]*))?::(.*)$/);
    if (!m) continue;
    const properties: Record<string, string> = {};
    for (const pair of (m[2] ?? "").split(",").filter(Boolean)) {
      const eq = pair.indexOf("=");
      properties[pair.slice(0, eq)] = unescapeProperty(pair.slice(eq + 1));
    }
    commands.push({ command: m[1]!, properties, message: unescapeData(m[3]!) });
  }
  return commands;
}

/** 1-based line of the first line of `text` that contains `needle`. */
export function lineOf(text: string, needle: string): number {
  const index = text.split("\n").findIndex((l) => l.includes(needle));
  if (index < 0) throw new Error(`${needle} is not in the text`);
  return index + 1;
}
