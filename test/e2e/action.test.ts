// The Action end to end: dist/index.js run as a runner runs it, against a loopback GitHub API and real git repositories.
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { stickyMarker } from "../../src/github/comment.js";
import type { Report } from "../../src/model/report.js";
import { readReport } from "../../src/report/io.js";
import { type FakeGitHub, startFakeGitHub } from "../helpers/fake-github.js";
import {
  ACTION,
  type ActionRun,
  checkoutShallow,
  fixture,
  git,
  lineOf,
  makeOrigin,
  OWNER,
  pullRequestPayload,
  pushPayload,
  REPO,
  type RunOptions,
  runAction,
  TOKEN,
  type Tree,
  workflowRunPayload,
} from "./helpers.js";

const MiB = 1024 * 1024;
const PR = 42;

let github: FakeGitHub;
let tmp: string;

beforeAll(() => {
  // test/global-setup.ts builds dist/ before every vitest run (even of this file alone). Building again
  // here would delete dist/ under the other test files that run it at the same time.
  if (!existsSync(ACTION)) throw new Error(`${ACTION} is missing: run npm run build`);
});

beforeEach(async () => {
  github = await startFakeGitHub();
  tmp = mkdtempSync(path.join(tmpdir(), "membudget-e2e-"));
});
afterEach(async () => {
  await github.close();
  rmSync(tmp, { recursive: true, force: true });
});

interface PullRequestRepo {
  baseSha: string;
  headSha: string;
  /** The shallow checkout of the head: GITHUB_WORKSPACE. */
  workspace: string;
}

/**
 * An origin with a base commit and a pull request's head commit on top, and the workspace a
 * default actions/checkout leaves: a depth-1 clone of the head.
 */
function pullRequestRepo(base: Tree, head: Tree): PullRequestRepo {
  const origin = path.join(tmp, "origin");
  const [baseSha, headSha] = makeOrigin(origin, [base, head]) as [string, string];
  const workspace = checkoutShallow(origin, path.join(tmp, "workspace"));
  return { baseSha, headSha, workspace };
}

/** A pull request that changes nothing the workloads do: same 20 MiB at the base and the head. */
function plainRepo(budgets: string): PullRequestRepo {
  return pullRequestRepo(
    { "membudget.json": fixture(budgets), "hold.py": fixture("workloads/hold_20mib.py") },
    { "NOTES.md": "A change that does not touch the workload.\n" },
  );
}

function onPullRequest(
  repo: PullRequestRepo,
  inputs: RunOptions["inputs"],
  extra: Partial<RunOptions> = {},
): Promise<ActionRun> {
  return runAction({
    workspace: repo.workspace,
    runnerDir: path.join(tmp, "runner"),
    event: "pull_request",
    payload: pullRequestPayload({ number: PR, baseSha: repo.baseSha, headSha: repo.headSha }),
    inputs,
    apiUrl: github.url,
    runId: 9001,
    sha: repo.headSha,
    ref: `refs/pull/${PR}/merge`,
    ...extra,
  });
}

const comments = () => github.comments(OWNER, REPO, PR);
const writes = () => github.requests.filter((r) => r.method !== "GET").map((r) => `${r.method} ${r.path}`);
const errors = (run: ActionRun) => run.commands.filter((c) => c.command === "error");
const warnings = (run: ActionRun) => run.commands.filter((c) => c.command === "warning");
/** Fails with the step's own output, so a failing assertion shows what the step printed. */
const describeRun = (run: ActionRun) => `exit ${run.exitCode}\n${run.stdout}\n${run.stderr}`;

/** The markdown table row of a scenario (the first one that names it). */
function rowOf(markdown: string, scenario: string): string {
  const row = markdown.split("\n").find((l) => l.startsWith("|") && l.includes(`**${scenario}**`));
  if (!row) throw new Error(`no table row for ${scenario} in:\n${markdown}`);
  // Figures keep their units on the line with non-breaking spaces; a reader sees spaces.
  return row.replace(/\u00a0/g, " ");
}

/** The text as a reader sees it: the non-breaking spaces that keep a figure on one line are spaces. */
function asRead(markdown: string): string {
  return markdown.replace(/\u00a0/g, " ");
}

/** The change column a reader sees, e.g. "+50.0%" → 0.5. */
function changeIn(row: string): number {
  const m = row.match(/([+−-]\d+(?:\.\d+)?)%/);
  if (!m) throw new Error(`no change figure in ${row}`);
  return Number(m[1]!.replace("−", "-")) / 100;
}

describe("on a pull request", () => {
  it("creates one sticky comment on the first run and updates it in place on the second", async () => {
    const repo = plainRepo("budgets/within.json");
    const first = await onPullRequest(repo, { comment: "always" }, { runId: 101 });
    expect(first.exitCode, describeRun(first)).toBe(0);
    expect(writes()).toEqual([`POST /repos/${OWNER}/${REPO}/issues/${PR}/comments`]);
    expect(comments()).toHaveLength(1);
    const posted = comments()[0]!;
    // Every request carries the job token.
    expect(github.requests.length).toBeGreaterThan(0);
    for (const r of github.requests) expect(r.authorization).toBe(`token ${TOKEN}`);

    const lines = posted.body.split("\n");
    expect(lines[0]).toBe(stickyMarker("measure"));
    // The verdict sentence comes first, then the table.
    expect(lines[1]).toMatch(/^### ✅ membudget: .*1 scenario.* within budget$/);
    expect(posted.body).toContain("| Scenario | Metric | Base | Head | Change | Budget | Status |");
    expect(rowOf(posted.body, "hold")).toMatch(
      /peak heap \| 20\.0 MiB \| 20\.0 MiB \| .* \| 40\.0 MiB \| pass \|/,
    );
    expect(posted.body).toContain("https://github.com/Codertocat/Hello-World/actions/runs/101");
    expect(first.outputs["comment-url"]).toBe(posted.html_url);

    const second = await onPullRequest(repo, { comment: "always" }, { runId: 102 });
    expect(second.exitCode, describeRun(second)).toBe(0);
    expect(writes()).toEqual([
      `POST /repos/${OWNER}/${REPO}/issues/${PR}/comments`,
      `PATCH /repos/${OWNER}/${REPO}/issues/comments/${posted.id}`,
    ]);
    expect(comments()).toHaveLength(1);
    expect(comments()[0]!.id).toBe(posted.id);
    expect(comments()[0]!.body).toContain("/actions/runs/102");
    expect(comments()[0]!.body).not.toContain("/actions/runs/101");
    expect(second.outputs["comment-url"]).toBe(posted.html_url);
  });

  it("over budget: fails the step, annotates the budget's line, and writes summary, outputs and report", async () => {
    const repo = plainRepo("budgets/over.json");
    const run = await onPullRequest(repo, { "report-path": "reports/membudget.json" });
    expect(run.exitCode, describeRun(run)).toBe(1);

    const annotated = errors(run).filter((c) => c.properties["file"]);
    expect(annotated).toHaveLength(1);
    expect(annotated[0]!.properties).toMatchObject({
      file: "membudget.json",
      line: String(lineOf(fixture("budgets/over.json"), '"peakHeap"')),
    });
    expect(annotated[0]!.properties["title"]).toContain("over budget");
    // And the step fails with the verdict in words.
    expect(errors(run).some((c) => !c.properties["file"] && /over budget.*hold/.test(c.message))).toBe(true);

    expect(run.outputs["status"]).toBe("over");
    expect(run.outputs["failed"]).toBe("hold");
    const reportPath = path.join(repo.workspace, "reports", "membudget.json");
    expect(run.outputs["report"]).toBe(reportPath);
    const report = readReport(reportPath);
    expect(report.status).toBe("over");
    expect(report.pullRequest).toMatchObject({ number: PR, baseSha: repo.baseSha, headSha: repo.headSha });
    const peak = report.scenarios.find((s) => s.name === "hold")!.metrics.peakHeap!;
    expect(peak.budget).toBe(16 * MiB);
    expect(peak.value).toBeGreaterThanOrEqual(20 * MiB);

    expect(run.summary).toMatch(/^### 🔴 membudget: /);
    expect(rowOf(run.summary, "hold")).toMatch(/🔴 \| \*\*hold\*\* \| peak heap \| .* \| 16\.0 MiB \|$/);

    // `comment: auto` posts when something is over budget.
    expect(comments()).toHaveLength(1);
    expect(run.outputs["comment-url"]).toBe(comments()[0]!.html_url);
  });

  it("within budget: exit 0, no annotation, and `comment: auto` starts no comment", async () => {
    const repo = plainRepo("budgets/within.json");
    const run = await onPullRequest(repo, {});
    expect(run.exitCode, describeRun(run)).toBe(0);
    expect(errors(run)).toEqual([]);
    expect(warnings(run)).toEqual([]);
    expect(run.outputs).toMatchObject({ status: "pass", failed: "", "comment-url": "" });
    expect(readReport(run.outputs["report"]!).status).toBe("pass");
    expect(asRead(run.summary)).toContain("| ✅ | **hold** | peak heap |");
    // It looked for the base's stored report and for an earlier comment to update, and wrote nothing.
    expect(github.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET /repos/${OWNER}/${REPO}/actions/workflows/membudget.yml/runs`,
      `GET /repos/${OWNER}/${REPO}/issues/${PR}/comments`,
    ]);
    expect(comments()).toEqual([]);
  });

  it("hands the workloads none of the step's INPUT_* variables, the token among them", async () => {
    const repo = pullRequestRepo(
      {
        "membudget.json": fixture("budgets/inputs-seen.json"),
        "inputs_seen.py": fixture("workloads/inputs_seen.py"),
      },
      { "NOTES.md": "A change that does not touch the workload.\n" },
    );
    const run = await onPullRequest(repo, {});
    expect(run.exitCode, describeRun(run)).toBe(0);
    const seen = (shell: string) =>
      JSON.parse(readFileSync(path.join(repo.workspace, `inputs_seen-${shell}.json`), "utf8"));
    expect(seen("sh")).toEqual([]);
    // Only what the scenario set itself.
    expect(seen("bash")).toEqual(["INPUT_OWN"]);
  });

  it("a 403 on creating the comment (a fork's read-only token) warns once and does not fail the job", async () => {
    const repo = plainRepo("budgets/within.json");
    github.denyWrites();
    const run = await onPullRequest(repo, { comment: "always" });
    expect(run.exitCode, describeRun(run)).toBe(0);
    expect(writes()).toEqual([`POST /repos/${OWNER}/${REPO}/issues/${PR}/comments`]);
    expect(comments()).toEqual([]);
    expect(warnings(run)).toHaveLength(1);
    expect(warnings(run)[0]!.message).toContain("pull-requests: write");
    expect(warnings(run)[0]!.message).toContain("from-report");
    expect(errors(run)).toEqual([]);
    expect(asRead(run.summary)).toContain("| ✅ | **hold** | peak heap |");
    expect(run.outputs).toMatchObject({ status: "pass", "comment-url": "" });
  });

  it.each([
    ["GITHUB_OUTPUT", { outputFile: "/dev/full" }],
    ["GITHUB_STEP_SUMMARY", { summaryFile: "/dev/full" }],
  ] as const)(
    "%s on a full disk: the error names the file, the comment is still posted, the step fails",
    async (variable, files) => {
      // /dev/full: every write gives ENOSPC, as a runner's full disk does.
      const repo = plainRepo("budgets/within.json");
      const run = await onPullRequest(repo, { comment: "always" }, files);
      expect(run.exitCode, describeRun(run)).toBe(1);
      const named = errors(run).filter((c) =>
        c.message.includes(`cannot write /dev/full (${variable}): ENOSPC`),
      );
      // Once as an annotation, once as the step's failure.
      expect(named, describeRun(run)).toHaveLength(2);
      expect(comments()).toHaveLength(1);
      expect(readReport(path.join(repo.workspace, "membudget-report.json")).status).toBe("pass");
    },
  );

  it("a budget file error fails the step with an annotation at its line, the JSON pointer and the fix", async () => {
    const repo = plainRepo("budgets/invalid.json");
    const run = await onPullRequest(repo, { comment: "always" });
    expect(run.exitCode, describeRun(run)).toBe(1);
    const annotated = errors(run).filter((c) => c.properties["file"]);
    expect(annotated).toHaveLength(1);
    expect(annotated[0]!.properties).toMatchObject({
      file: "membudget.json",
      line: String(lineOf(fixture("budgets/invalid.json"), '"peakHeep"')),
    });
    expect(annotated[0]!.message).toContain("/scenarios/hold/budget/peakHeep");
    expect(annotated[0]!.message).toMatch(/fix: did you mean "peakHeap"/);
    // Nothing was measured, so nothing is posted.
    expect(github.requests).toEqual([]);
  });

  it("a budget file error on a full disk: the step fails with the budget file's error, the full GITHUB_OUTPUT named", async () => {
    const repo = plainRepo("budgets/invalid.json");
    const run = await onPullRequest(repo, { comment: "always" }, { outputFile: "/dev/full" });
    expect(run.exitCode, describeRun(run)).toBe(1);
    const messages = errors(run).map((c) => c.message);
    // The `status: error` output could not be written: said once, with the variable and its file.
    expect(messages.filter((m) => m.includes("cannot write /dev/full (GITHUB_OUTPUT): ENOSPC"))).toHaveLength(
      1,
    );
    // The step's failure is the budget file's (before: ENOSPC from @actions/core, naming neither).
    expect(messages.at(-1)).toMatch(/^membudget: .*membudget\.json/);
    expect(messages.at(-1)).toContain("peakHeep");
    expect(errors(run).filter((c) => c.properties["file"] === "membudget.json")).toHaveLength(1);
  });
});

describe("base vs head", () => {
  /** Base: hold.py holds 20 MiB. Head: 30 MiB, and fresh.py plus its scenario are new. */
  function growingRepo(budgets: string, dir = ""): PullRequestRepo {
    const at = (file: string) => path.posix.join(dir, file);
    return pullRequestRepo(
      {
        [at("membudget.json")]: fixture("budgets/within.json"),
        [at("hold.py")]: fixture("workloads/hold_20mib.py"),
      },
      {
        [at("membudget.json")]: fixture(budgets),
        [at("hold.py")]: fixture("workloads/hold_30mib.py"),
        [at("fresh.py")]: fixture("workloads/fresh.py"),
      },
    );
  }

  it("comment: on-change comments while a figure moved, and deletes the comment once nothing moved", async () => {
    // A pull request whose workload grew: the comment is created.
    const grown = growingRepo("budgets/base-vs-head.json");
    const first = await onPullRequest(grown, { comment: "on-change", "fail-on": "never" });
    expect(first.exitCode, describeRun(first)).toBe(0);
    expect(comments()).toHaveLength(1);
    // The next push reverts the growth (base and head alike): the comment goes.
    rmSync(path.join(tmp, "origin"), { recursive: true, force: true });
    rmSync(path.join(tmp, "workspace"), { recursive: true, force: true });
    const plain = plainRepo("budgets/within.json");
    const second = await onPullRequest(plain, { comment: "on-change" }, { runId: 2 });
    expect(second.exitCode, describeRun(second)).toBe(0);
    expect(comments()).toHaveLength(0);
    expect(writes().at(-1)).toMatch(/^DELETE \/repos\/.+\/issues\/comments\/\d+$/);
  });

  function expectBaseAndHead(report: Report, markdown: string, repo: PullRequestRepo): void {
    expect(report.base?.commit).toBe(repo.baseSha);
    expect(report.commit).toBe(repo.headSha);
    const peak = report.scenarios.find((s) => s.name === "hold")!.metrics.peakHeap!;
    // tracemalloc's peak is the bytearray plus a little interpreter bookkeeping.
    expect(peak.base!.value / (20 * MiB)).toBeCloseTo(1, 1);
    expect(peak.value / (30 * MiB)).toBeCloseTo(1, 1);
    expect(Math.abs(peak.delta! - 0.5)).toBeLessThan(0.03);
    expect(report.scenarios.find((s) => s.name === "fresh")!.status).toBe("new");

    expect(markdown).toContain(`base \`${repo.baseSha.slice(0, 7)}\` → head \`${repo.headSha.slice(0, 7)}\``);
    const row = rowOf(markdown, "hold");
    expect(row).toMatch(/\| 20\.\d MiB \| 30\.\d MiB \|/);
    expect(Math.abs(changeIn(row) - 0.5)).toBeLessThan(0.03);
    expect(rowOf(markdown, "fresh")).toContain("new");
  }

  it("measures the base commit fetched into a shallow checkout: +50 % peak heap is `regressed`", async () => {
    const repo = growingRepo("budgets/base-vs-head.json");
    // As actions/checkout leaves it: shallow, without the base commit.
    expect(git(repo.workspace, "rev-parse", "--is-shallow-repository")).toBe("true");
    expect(() => git(repo.workspace, "cat-file", "-e", `${repo.baseSha}^{commit}`)).toThrow();

    const run = await onPullRequest(repo, { "fail-on": "regressed" });
    expect(run.exitCode, describeRun(run)).toBe(1);
    const report = readReport(run.outputs["report"]!);
    expect(report.status).toBe("regressed");
    expect(run.outputs).toMatchObject({ status: "regressed", failed: "hold" });
    expectBaseAndHead(report, comments()[0]!.body, repo);
    expectBaseAndHead(report, run.summary, repo);
    expect(comments()).toHaveLength(1);

    // Within budget, so a warning (not an error) on the budget's line.
    expect(errors(run).filter((c) => c.properties["file"])).toEqual([]);
    const regressed = warnings(run).filter((c) => c.properties["file"]);
    // Peak heap on its budget's line; the bytes allocated grew as much but have no budget: no
    // warning for them (the comment lists them, folded, as information).
    expect(regressed.map((c) => [c.properties["title"], c.properties["file"], c.properties["line"]])).toEqual(
      [
        [
          "membudget: hold regressed (peak heap)",
          "membudget.json",
          String(lineOf(fixture("budgets/base-vs-head.json"), '"peakHeap": "40 MiB"')),
        ],
      ],
    );
    // Where it grew: the head's and the base's allocation sites, diffed. The line the head commit
    // added tops the diff (new: nothing at the base); the unchanged 20 MiB line does not appear.
    const hold = report.scenarios.find((s) => s.name === "hold")!;
    const diff = hold.sites?.diff ?? [];
    expect(diff[0]?.location).toBe("hold.py:4");
    expect(Math.abs(diff[0]!.bytes - 10 * MiB) / (10 * MiB)).toBeLessThan(0.05);
    expect(diff[0]?.baseBytes).toBe(0);
    expect(diff.some((s) => s.location === "hold.py:2")).toBe(false);
    expect(comments()[0]!.body).toContain(`/blob/${repo.headSha}/hold.py#L4`);
    // The base worktree is gone again.
    expect(git(repo.workspace, "worktree", "list").split("\n")).toHaveLength(1);
  });

  it("with the head's budget exceeded it is `over`, in a working-directory below the workspace", async () => {
    const repo = growingRepo("budgets/base-vs-head-over.json", "perf");
    const run = await onPullRequest(repo, { "working-directory": "perf" });
    expect(run.exitCode, describeRun(run)).toBe(1);
    const report = readReport(run.outputs["report"]!);
    expect(run.outputs["report"]).toBe(path.join(repo.workspace, "perf", "membudget-report.json"));
    expect(report.status).toBe("over");
    expect(run.outputs).toMatchObject({ status: "over", failed: "hold" });
    expectBaseAndHead(report, comments()[0]!.body, repo);
    const annotated = errors(run).filter((c) => c.properties["file"]);
    expect(annotated.map((c) => c.properties)).toEqual([
      expect.objectContaining({
        file: "perf/membudget.json",
        line: String(lineOf(fixture("budgets/base-vs-head-over.json"), '"peakHeap": "25 MiB"')),
      }),
    ]);
  });
});

describe("annotations", () => {
  it("11 scenarios over budget: 10 error annotations (GitHub shows no more) and one notice naming the one left out", async () => {
    const names = Array.from({ length: 11 }, (_, i) => `s${String(i + 1).padStart(2, "0")}`);
    const budgets = {
      defaults: { repeat: 1, timeout: "60s" },
      scenarios: Object.fromEntries(
        names.map((name) => [name, { run: "python3 -c pass", budget: { peakRss: "1 KiB" } }]),
      ),
    };
    const repo = pullRequestRepo(
      { "membudget.json": JSON.stringify(budgets, null, 2) },
      { "NOTES.md": "A change that does not touch the workloads.\n" },
    );
    const run = await onPullRequest(repo, { compare: "none" });
    expect(run.exitCode, describeRun(run)).toBe(1);
    const annotated = errors(run).filter((c) => c.properties["file"] === "membudget.json");
    expect(annotated, describeRun(run)).toHaveLength(10);
    const shown = names.filter((n) => annotated.some((c) => c.properties["title"]?.includes(n)));
    expect(shown).toHaveLength(10);
    const left = names.filter((n) => !shown.includes(n));
    expect(left).toHaveLength(1);
    const notices = run.commands.filter((c) => c.command === "notice");
    expect(notices.map((c) => c.properties["title"])).toEqual(["membudget: annotations left out"]);
    expect(notices[0]!.message).toMatch(
      /^1 more annotation is left out \(GitHub shows 10 of each level in a step\)/,
    );
    for (const name of left) expect(notices[0]!.message).toContain(name);
    // The step's own failure names every scenario over budget.
    const failure = errors(run).filter((c) => !c.properties["file"]);
    expect(failure).toHaveLength(1);
    for (const name of names) expect(failure[0]!.message).toContain(name);
    expect(run.outputs["failed"]!.split("\n")).toEqual(names);
  });
});

describe("cancelled", () => {
  // The runner cancels a job with SIGINT, then SIGTERM (then SIGKILL). The workload writes `started`
  // in its folder and sleeps: at the base only (the head is measured first, then the base in a
  // worktree), or at the head.
  it.each([
    ["SIGTERM", "base", 143],
    ["SIGINT", "base", 130],
    ["SIGTERM", "head", 143],
  ] as const)(
    "%s while the %s is measured: the workload is stopped, the base worktree and run folders removed, exit %i",
    async (signal, where, code) => {
      const budgets = {
        defaults: { repeat: 1, timeout: "300s" },
        scenarios: { slow: { run: "python3 slow.py", budget: { peakRss: "1 GiB" } } },
      };
      const workload = (seconds: number) =>
        `import pathlib, time\npathlib.Path("started").write_text("")\ntime.sleep(${seconds})\n`;
      const repo = pullRequestRepo(
        { "membudget.json": JSON.stringify(budgets), "slow.py": workload(where === "base" ? 300 : 0) },
        { "slow.py": workload(where === "head" ? 300 : 0) },
      );
      let temp = "";
      let stopped = "";
      const startedStep = Date.now();
      const run = await onPullRequest(
        repo,
        {},
        {
          onStart(child, dir) {
            temp = dir;
            const poll = setInterval(() => {
              const folders =
                where === "head"
                  ? [repo.workspace]
                  : readdirSync(dir)
                      .filter((name) => name.startsWith("membudget-base-"))
                      .map((name) => path.join(dir, name));
              const started = folders.map((f) => path.join(f, "started")).find((f) => existsSync(f));
              if (started) {
                stopped = started;
                clearInterval(poll);
                child.kill(signal);
              }
            }, 50);
            child.once("exit", () => clearInterval(poll));
          },
        },
      );
      expect(stopped, describeRun(run)).not.toBe("");
      expect(run.exitCode, describeRun(run)).toBe(code);
      // The workload was stopped, not waited for (it sleeps 300 s).
      expect(Date.now() - startedStep).toBeLessThan(120_000);
      expect(errors(run).map((c) => c.message)).toEqual([expect.stringMatching(/^membudget: cancelled/)]);
      // Only the head's own checkout is registered; RUNNER_TEMP and TMPDIR hold nothing of membudget's.
      expect(git(repo.workspace, "worktree", "list").split("\n")).toHaveLength(1);
      const registered = path.join(repo.workspace, ".git", "worktrees");
      expect(existsSync(registered) ? readdirSync(registered) : []).toEqual([]);
      // (Node's compile cache, which dist/index.js enables, stays there on purpose.)
      expect(readdirSync(temp).filter((name) => name !== "node-compile-cache")).toEqual([]);
      expect(comments()).toEqual([]);
    },
    150_000,
  );
});

describe("other events", () => {
  it("push: no request to GitHub at all; the summary and the outputs are written", async () => {
    const origin = path.join(tmp, "origin");
    const [sha] = makeOrigin(origin, [
      { "membudget.json": fixture("budgets/within.json"), "hold.py": fixture("workloads/hold_20mib.py") },
    ]) as [string];
    const workspace = checkoutShallow(origin, path.join(tmp, "workspace"));
    const run = await runAction({
      workspace,
      runnerDir: path.join(tmp, "runner"),
      event: "push",
      payload: pushPayload(sha),
      inputs: { comment: "always" },
      apiUrl: github.url,
      runId: 300,
      sha,
      ref: "refs/heads/main",
    });
    expect(run.exitCode, describeRun(run)).toBe(0);
    expect(github.requests).toEqual([]);
    expect(warnings(run)).toEqual([]);
    expect(asRead(run.summary)).toContain("| ✅ | **hold** | peak heap | 20.0 MiB | 40.0 MiB | pass |");
    expect(run.outputs).toMatchObject({ status: "pass", failed: "", "comment-url": "" });
    const report = readReport(run.outputs["report"]!);
    expect(report.commit).toBe(sha);
    expect(report.pullRequest).toBeUndefined();
    // The base a later pull request reuses: its passing scenario keeps the sites sampled in the
    // measured run (the diff then needs no run on the base), which the summary does not show.
    expect(report.scenarios[0]!.sites?.method).toBe("sampled");
    expect(report.scenarios[0]!.sites?.peak?.[0]?.location).toMatch(/^hold\.py:\d+$/);
    expect(run.summary).not.toContain("sites holding most");
  });

  it("push: a test over its budget is an error annotation at the test's definition line", async () => {
    const origin = path.join(tmp, "origin-pytest");
    const budgets = JSON.stringify({
      scenarios: {
        suite: {
          run: "python3 -m pytest -q -p no:cacheprovider tests",
          repeat: 1,
          sites: "never",
          tests: { "tests/*::*": { peakHeap: "4 MiB" } },
        },
      },
    });
    const suite = [
      "def test_small():",
      "    assert sum(range(100)) == 4950",
      "",
      "",
      "def test_big():",
      "    block = bytearray(12 << 20)",
      "    assert len(block) == 12 << 20",
      "",
    ].join("\n");
    const [sha] = makeOrigin(origin, [{ "membudget.json": budgets, "tests/test_sizes.py": suite }]) as [
      string,
    ];
    const workspace = checkoutShallow(origin, path.join(tmp, "workspace-pytest"));
    const run = await runAction({
      workspace,
      runnerDir: path.join(tmp, "runner-pytest"),
      event: "push",
      payload: pushPayload(sha),
      inputs: { comment: "never" },
      apiUrl: github.url,
      runId: 310,
      sha,
      ref: "refs/heads/main",
    });
    expect(run.exitCode, describeRun(run)).toBe(1);
    expect(
      errors(run)
        .filter((c) => c.properties["file"])
        .map((c) => [c.properties["file"], c.properties["line"], c.properties["title"]]),
    ).toEqual([["tests/test_sizes.py", "5", "membudget: test_big over budget (suite)"]]);
    expect(warnings(run)).toEqual([]);
  });

  it("comment: from-report posts a fork pull request's report from workflow_run, on the same sticky comment", async () => {
    const repo = plainRepo("budgets/within.json");
    // The default branch, as the workflow_run job checks it out (it runs the action from there).
    const commentWorkspace = path.join(tmp, "default-branch");
    checkoutShallow(path.join(tmp, "origin"), commentWorkspace);

    github.setPullRequestHead(OWNER, REPO, PR, repo.headSha);
    /** One push to the fork: the pull_request job (read-only token), then the workflow_run job. */
    const roundTrip = async (runId: number) => {
      github.denyWrites();
      const measured = await onPullRequest(repo, { comment: "always" }, { runId });
      expect(measured.exitCode, describeRun(measured)).toBe(0);
      expect(warnings(measured)).toHaveLength(1);
      github.fail(undefined);

      // actions/download-artifact puts the uploaded report here.
      const artifact = path.join(commentWorkspace, "membudget-report");
      mkdirSync(artifact, { recursive: true });
      copyFileSync(measured.outputs["report"]!, path.join(artifact, "membudget-report.json"));
      const posted = await runAction({
        workspace: commentWorkspace,
        runnerDir: path.join(tmp, "runner"),
        event: "workflow_run",
        payload: workflowRunPayload({ id: runId, headSha: repo.headSha }),
        inputs: { comment: "from-report", "report-path": "membudget-report/membudget-report.json" },
        apiUrl: github.url,
        runId: runId + 1,
        job: "comment",
        sha: repo.baseSha,
        ref: "refs/heads/main",
      });
      expect(posted.exitCode, describeRun(posted)).toBe(0);
      expect(warnings(posted)).toEqual([]);
      expect(asRead(posted.summary)).toContain("| ✅ | **hold** | peak heap |");
      return posted;
    };

    const first = await roundTrip(501);
    expect(comments()).toHaveLength(1);
    const comment = comments()[0]!;
    // The key recorded in the report (the measuring job's), not the commenting job's.
    expect(comment.body.startsWith(`${stickyMarker("measure")}\n### ✅ membudget: `)).toBe(true);
    expect(comment.body).toContain("/actions/runs/501");
    expect(first.outputs["comment-url"]).toBe(comment.html_url);

    const second = await roundTrip(601);
    expect(comments()).toHaveLength(1);
    expect(comments()[0]!.id).toBe(comment.id);
    expect(comments()[0]!.body).toContain("/actions/runs/601");
    expect(second.outputs["comment-url"]).toBe(comment.html_url);
    // Each pull_request job was refused (403), each workflow_run job wrote: one comment, created then updated.
    expect(writes()).toEqual([
      `POST /repos/${OWNER}/${REPO}/issues/${PR}/comments`,
      `POST /repos/${OWNER}/${REPO}/issues/${PR}/comments`,
      `PATCH /repos/${OWNER}/${REPO}/issues/comments/${comment.id}`,
      `PATCH /repos/${OWNER}/${REPO}/issues/comments/${comment.id}`,
    ]);
  });
  it("comment: from-report refuses a report whose pull request is not at the commit the workflow run measured", async () => {
    const repo = plainRepo("budgets/within.json");
    const commentWorkspace = path.join(tmp, "default-branch");
    checkoutShallow(path.join(tmp, "origin"), commentWorkspace);
    const measured = await onPullRequest(repo, { comment: "never" }, { runId: 701 });
    expect(measured.exitCode, describeRun(measured)).toBe(0);
    // Another pull request (#42 here) moved on: a report aimed at it must not be posted.
    github.setPullRequestHead(OWNER, REPO, PR, repo.baseSha);
    const artifact = path.join(commentWorkspace, "membudget-report");
    mkdirSync(artifact, { recursive: true });
    copyFileSync(measured.outputs["report"]!, path.join(artifact, "membudget-report.json"));
    const posted = await runAction({
      workspace: commentWorkspace,
      runnerDir: path.join(tmp, "runner"),
      event: "workflow_run",
      payload: workflowRunPayload({ id: 701, headSha: repo.headSha }),
      inputs: { comment: "from-report", "report-path": "membudget-report/membudget-report.json" },
      apiUrl: github.url,
      runId: 702,
      job: "comment",
      sha: repo.baseSha,
      ref: "refs/heads/main",
    });
    expect(posted.exitCode).toBe(1);
    expect(posted.stdout).toContain(
      `refusing to comment: pull request #${PR} is at ${repo.baseSha.slice(0, 7)}`,
    );
    expect(writes()).toEqual([]);
  });
});

describe("shards: a matrix of `shard` legs and one `merge` job", () => {
  const SEVEN = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf"];

  it("posts one comment naming all seven scenarios and fails for the one over budget; without shard 2 it fails and names it", async () => {
    const repo = plainRepo("budgets/seven.json");
    // The matrix legs: each measures its shard and uploads its report (here: copies it where
    // actions/download-artifact with `pattern: membudget-shard-*` puts each artifact).
    for (const i of [1, 2, 3]) {
      const leg = await onPullRequest(
        repo,
        { shard: `${i}/3`, compare: "none", comment: "never", "report-path": `out/shard-${i}.json` },
        { runId: 800 },
      );
      expect([0, 1], describeRun(leg)).toContain(leg.exitCode);
      const dir = path.join(repo.workspace, "shards", `membudget-shard-${i}`);
      mkdirSync(dir, { recursive: true });
      copyFileSync(leg.outputs["report"]!, path.join(dir, "membudget-report.json"));
    }
    expect(comments()).toEqual([]);

    const merge = () => onPullRequest(repo, { merge: "shards/**/*.json" }, { runId: 800, job: "report" });
    const merged = await merge();
    expect(merged.exitCode, describeRun(merged)).toBe(1);
    expect(comments()).toHaveLength(1);
    const body = comments()[0]!.body;
    expect(body.startsWith(`${stickyMarker("report")}\n### 🔴 membudget: 1 of 7 scenarios over budget`)).toBe(
      true,
    );
    for (const name of SEVEN) rowOf(body, name);
    expect(rowOf(body, "echo")).toMatch(/🔴 \| \*\*echo\*\* \| peak heap \| 20\.0 MiB \| 16\.0 MiB \|$/);
    expect(merged.outputs).toMatchObject({
      status: "over",
      failed: "echo",
      "comment-url": comments()[0]!.html_url,
    });
    expect(
      merged.commands.find((c) => c.command === "error" && c.message.includes("peak heap")),
    ).toBeDefined();
    const report = readReport(merged.outputs["report"]!);
    expect(report.shards).toEqual({ total: 3, merged: [1, 2, 3] });
    expect(report.scenarios.map((s) => s.name)).toEqual(SEVEN);

    // The same shards where download-artifact puts them with `path: ${{ runner.temp }}/shards`:
    // an absolute glob, outside the workspace.
    const runnerTemp = path.join(tmp, "runner-temp");
    cpSync(path.join(repo.workspace, "shards"), path.join(runnerTemp, "shards"), { recursive: true });
    const absolute = await onPullRequest(
      repo,
      { merge: `${runnerTemp}/shards/*/*.json`, comment: "never", "report-path": "out/absolute.json" },
      { runId: 800, job: "report" },
    );
    expect(absolute.exitCode, describeRun(absolute)).toBe(1);
    expect(absolute.stdout).toContain(`${runnerTemp}/shards/membudget-shard-2/membudget-report.json`);
    expect(readReport(absolute.outputs["report"]!).shards).toEqual({ total: 3, merged: [1, 2, 3] });
    // Relative to `working-directory`, not to the workspace, with a `!` line that leaves one out.
    mkdirSync(path.join(repo.workspace, "sub"));
    const relative = await onPullRequest(
      repo,
      {
        "working-directory": "sub",
        merge: "../shards/**/*.json\n!../shards/membudget-shard-3/*",
        comment: "never",
      },
      { runId: 800, job: "report" },
    );
    expect(relative.exitCode, describeRun(relative)).toBe(1);
    expect(relative.summary).toContain("Shard 3 of 3: no report");
    expect(readReport(relative.outputs["report"]!).shards).toMatchObject({ total: 3, merged: [1, 2] });
    expect(comments()).toHaveLength(1);

    // A leg that crashed or was cancelled uploads nothing: the merge must not look green.
    rmSync(path.join(repo.workspace, "shards", "membudget-shard-2"), { recursive: true });
    const lost = await merge();
    expect(lost.exitCode, describeRun(lost)).toBe(1);
    expect(lost.summary).toContain("Shard 2 of 3: no report");
    expect(lost.outputs["status"]).toBe("error");
    expect(errors(lost).map((e) => e.message)).toContain("shard 2 of 3: no report");
    expect(comments()).toHaveLength(1);
    expect(comments()[0]!.body).toContain("Shard 2 of 3: no report");
  });
});
