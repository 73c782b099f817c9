// The Action's inputs and event, read the way a runner hands them over (INPUT_* variables and a real payload).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { INPUT_DEFAULTS, InputError, readGitHubContext, readSettings } from "../../src/action/inputs.js";

const fixtures = fileURLToPath(new URL("../fixtures/github/", import.meta.url));
const actionYml = fileURLToPath(new URL("../../action.yml", import.meta.url));
const payload = (name: string) => JSON.parse(readFileSync(path.join(fixtures, name), "utf8"));

let workspace: string;

/** Sets an input the way the runner does: INPUT_ + upper-cased name, hyphens kept. */
const setInput = (name: string, value: string) =>
  vi.stubEnv(`INPUT_${name.replace(/ /g, "_").toUpperCase()}`, value);

beforeEach(() => {
  workspace = mkdtempSync(path.join(tmpdir(), "membudget-inputs-"));
  // Start from a clean slate: no inputs and no runner variables from the environment running the tests.
  for (const name of Object.keys(process.env)) {
    if (name.startsWith("INPUT_") || name.startsWith("GITHUB_")) vi.stubEnv(name, undefined);
  }
  vi.stubEnv("GITHUB_EVENT_NAME", "pull_request");
  vi.stubEnv("GITHUB_EVENT_PATH", path.join(fixtures, "pull_request.opened.json"));
  vi.stubEnv("GITHUB_REPOSITORY", "Codertocat/Hello-World");
  vi.stubEnv("GITHUB_SERVER_URL", "https://github.com");
  vi.stubEnv("GITHUB_API_URL", "https://api.github.com");
  vi.stubEnv("GITHUB_RUN_ID", "1658821493");
  vi.stubEnv("GITHUB_RUN_ATTEMPT", "1");
  vi.stubEnv("GITHUB_JOB", "memory");
  vi.stubEnv("GITHUB_SHA", "0000000000000000000000000000000000000001");
  vi.stubEnv("GITHUB_REF", "refs/pull/2/merge");
  vi.stubEnv("GITHUB_WORKSPACE", workspace);
  vi.stubEnv("GITHUB_TOKEN", undefined);
});
afterEach(() => {
  vi.unstubAllEnvs();
  rmSync(workspace, { recursive: true, force: true });
});

describe("readSettings", () => {
  it("with no inputs at all (node dist/index.js by hand) applies action.yml's defaults", () => {
    const settings = readSettings();
    expect(settings).toMatchObject({
      budgets: path.join(workspace, "membudget.json"),
      workingDirectory: workspace,
      token: "",
      comment: "auto",
      failOn: "over",
      compare: { kind: "base" },
      only: [],
      reportPath: path.join(workspace, "membudget-report.json"),
      key: "",
      commentKey: "memory",
    });
  });

  it("reads the pull request from the real opened payload", () => {
    const event = payload("pull_request.opened.json");
    const { github } = readSettings();
    expect(github).toMatchObject({
      eventName: "pull_request",
      owner: "Codertocat",
      repo: "Hello-World",
      apiUrl: "https://api.github.com",
      runUrl: "https://github.com/Codertocat/Hello-World/actions/runs/1658821493",
      job: "memory",
      workspace,
    });
    expect(github.pullRequest).toEqual({
      number: event.pull_request.number,
      baseSha: event.pull_request.base.sha,
      headSha: event.pull_request.head.sha,
      baseRef: event.pull_request.base.ref,
      headRef: event.pull_request.head.ref,
      fromFork: false,
    });
  });

  it("reads the synchronize payload (a push to the pull request) the same way", () => {
    vi.stubEnv("GITHUB_EVENT_PATH", path.join(fixtures, "pull_request.synchronize.json"));
    const event = payload("pull_request.synchronize.json");
    expect(readSettings().github.pullRequest).toMatchObject({
      number: event.pull_request.number,
      baseSha: event.pull_request.base.sha,
      headSha: event.pull_request.head.sha,
    });
  });

  it("recognises a pull request from a fork, including a deleted one", () => {
    const event = payload("pull_request.opened.json");
    event.pull_request.head.repo.full_name = "mallory/Hello-World";
    const forked = path.join(workspace, "fork.json");
    writeFileSync(forked, JSON.stringify(event));
    vi.stubEnv("GITHUB_EVENT_PATH", forked);
    expect(readSettings().github.pullRequest?.fromFork).toBe(true);

    event.pull_request.head.repo = null;
    writeFileSync(forked, JSON.stringify(event));
    expect(readSettings().github.pullRequest?.fromFork).toBe(true);
  });

  it("a push has no pull request; a re-run attempt shows in the run URL", () => {
    vi.stubEnv("GITHUB_EVENT_NAME", "push");
    vi.stubEnv("GITHUB_EVENT_PATH", undefined);
    vi.stubEnv("GITHUB_RUN_ATTEMPT", "2");
    const { github } = readSettings();
    expect(github.pullRequest).toBeUndefined();
    expect(github.runUrl).toBe(
      "https://github.com/Codertocat/Hello-World/actions/runs/1658821493/attempts/2",
    );
  });

  it("reads a workflow_run payload for the fork pattern", () => {
    vi.stubEnv("GITHUB_EVENT_NAME", "workflow_run");
    vi.stubEnv("GITHUB_EVENT_PATH", path.join(fixtures, "workflow_run.completed.json"));
    const event = payload("workflow_run.completed.json");
    expect(readGitHubContext().workflowRun).toEqual({
      id: event.workflow_run.id,
      event: event.workflow_run.event,
      headSha: event.workflow_run.head_sha,
      conclusion: event.workflow_run.conclusion,
      pullRequestNumbers: event.workflow_run.pull_requests.map((p: { number: number }) => p.number),
    });
  });

  it("resolves paths against working-directory, which is relative to the workspace", () => {
    mkdirSync(path.join(workspace, "bench"));
    setInput("working-directory", "bench");
    setInput("budgets", "budgets.json");
    setInput("report-path", "out/report.json");
    setInput("compare", "../main-report.json");
    const settings = readSettings();
    expect(settings.workingDirectory).toBe(path.join(workspace, "bench"));
    expect(settings.budgets).toBe(path.join(workspace, "bench", "budgets.json"));
    expect(settings.reportPath).toBe(path.join(workspace, "bench", "out", "report.json"));
    expect(settings.compare).toEqual({ kind: "report", path: path.join(workspace, "main-report.json") });
  });

  it("a missing working-directory is an error naming the input", () => {
    setInput("working-directory", "nowhere");
    expect(() => readSettings()).toThrow(/`working-directory` is "nowhere": .*nowhere does not exist/);
  });

  it("takes the token, masks it, and uses GITHUB_TOKEN when the default expression was not substituted", () => {
    const stdout = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    setInput("github-token", "ghs_from_input");
    expect(readSettings().token).toBe("ghs_from_input");
    expect(stdout.mock.calls.map((c) => String(c[0]))).toContain(`::add-mask::ghs_from_input${"\n"}`);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal default, as when no runner substitutes it
    setInput("github-token", "${{ github.token }}");
    vi.stubEnv("GITHUB_TOKEN", "ghs_from_env");
    expect(readSettings().token).toBe("ghs_from_env");
    stdout.mockRestore();
  });

  it("accepts every documented comment and fail-on value, case-insensitively", () => {
    for (const mode of ["auto", "always", "on-change", "never", "from-report"]) {
      setInput("comment", mode.toUpperCase());
      expect(readSettings().comment).toBe(mode);
    }
    for (const failOn of ["over", "regressed", "never"]) {
      setInput("fail-on", failOn);
      expect(readSettings().failOn).toBe(failOn);
    }
    setInput("fail-on", "regression");
    expect(readSettings().failOn).toBe("regressed");
  });

  it("rejects a wrong comment mode, naming the input and the accepted values", () => {
    setInput("comment", "sometimes");
    expect(() => readSettings()).toThrow(InputError);
    expect(() => readSettings()).toThrow(
      'Input `comment` is "sometimes"; it accepts `auto`, `always`, `on-change`, `never`, `from-report`.',
    );
  });

  it("rejects a wrong fail-on value", () => {
    setInput("fail-on", "warn");
    expect(() => readSettings()).toThrow(
      'Input `fail-on` is "warn"; it accepts `over`, `regressed`, `never`.',
    );
  });

  it("compare: base, none, a report path, and a typo", () => {
    setInput("compare", "NONE");
    expect(readSettings().compare).toEqual({ kind: "none" });
    writeFileSync(path.join(workspace, "baseline"), "{}");
    setInput("compare", "baseline");
    expect(readSettings().compare).toEqual({ kind: "report", path: path.join(workspace, "baseline") });
    setInput("compare", "bsae");
    expect(() => readSettings()).toThrow(/Input `compare` is "bsae"; it accepts `base`, `none`, or the path/);
  });

  it("only: names separated by new lines or commas, blanks and repeats dropped", () => {
    setInput("only", "load-catalog, parse-json\n\n  render \nparse-json,");
    expect(readSettings().only).toEqual(["load-catalog", "parse-json", "render"]);
  });

  it("key: added to the job id to make the comment key", () => {
    setInput("key", " 3.12 ");
    expect(readSettings()).toMatchObject({ key: "3.12", commentKey: "memory/3.12" });
  });

  it("a broken event payload is an error that names the file", () => {
    const broken = path.join(workspace, "event.json");
    writeFileSync(broken, "{not json");
    vi.stubEnv("GITHUB_EVENT_PATH", broken);
    expect(() => readSettings()).toThrow(new RegExp(`event payload ${broken} is not JSON`));
  });
});

describe("action.yml", () => {
  // A small reader for the one shape action.yml uses: `inputs:` then `  name:` blocks with `default:`.
  function declaredInputs(): Record<string, string | undefined> {
    const lines = readFileSync(actionYml, "utf8").split("\n");
    const start = lines.indexOf("inputs:");
    const inputs: Record<string, string | undefined> = {};
    let current: string | undefined;
    for (const line of lines.slice(start + 1)) {
      if (/^\S/.test(line)) break;
      const name = line.match(/^ {2}([a-z-]+):\s*$/);
      if (name) {
        current = name[1]!;
        inputs[current] = undefined;
      }
      const value = line.match(/^ {4}default:\s*(.*)$/);
      if (value && current) inputs[current] = value[1]!.replace(/^"(.*)"$/, "$1");
    }
    return inputs;
  }

  it("declares exactly the inputs read here, with the same defaults", () => {
    expect(declaredInputs()).toEqual(INPUT_DEFAULTS);
  });

  it("runs dist/index.js on node24 and declares the outputs", () => {
    const text = readFileSync(actionYml, "utf8");
    expect(text).toMatch(/^runs:\n {2}using: node24\n {2}main: dist\/index\.js$/m);
    for (const output of ["status", "report", "failed", "comment-url"]) {
      expect(text).toMatch(new RegExp(`^outputs:[\\s\\S]*^ {2}${output}:$`, "m"));
    }
  });
});
