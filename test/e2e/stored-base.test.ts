// The base from main's stored report: dist/index.js on a push stores its report, and a pull request's
// run reuses it scenario by scenario (through the loopback GitHub API), measuring only what it must.
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Report } from "../../src/model/report.js";
import { readReport } from "../../src/report/io.js";
import { type FakeGitHub, startFakeGitHub } from "../helpers/fake-github.js";
import {
  ACTION,
  type ActionRun,
  checkoutShallow,
  fixture,
  git,
  makeOrigin,
  OWNER,
  pullRequestPayload,
  pushPayload,
  REPO,
  REPOSITORY,
  runAction,
  type Tree,
} from "./helpers.js";

const MiB = 1024 * 1024;
const PR = 42;
const PUSH_RUN = 500;

let github: FakeGitHub;
let tmp: string;

beforeAll(() => {
  if (!existsSync(ACTION)) throw new Error(`${ACTION} is missing: run npm run build`);
});
beforeEach(async () => {
  github = await startFakeGitHub();
  tmp = mkdtempSync(path.join(tmpdir(), "membudget-e2e-stored-"));
});
afterEach(async () => {
  await github.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** Two scenarios: hold (20 MiB) and small (1 MiB, whose command the head may change). */
function budgets(smallCommand: string): string {
  return `${JSON.stringify(
    {
      defaults: { repeat: 1, timeout: "60s", tolerance: "5%" },
      scenarios: {
        hold: { run: "python3 hold.py", budget: { peakHeap: "40 MiB" } },
        small: { run: smallCommand, budget: { peakHeap: "8 MiB" } },
      },
    },
    null,
    2,
  )}\n`;
}

const BASE: Tree = {
  "membudget.json": budgets("python3 fresh.py"),
  "hold.py": fixture("workloads/hold_20mib.py"),
  "fresh.py": fixture("workloads/fresh.py"),
};

interface Repo {
  origin: string;
  baseSha: string;
  headSha: string;
  workspace: string;
}

function repoWith(head: Tree): Repo {
  const origin = path.join(tmp, "origin");
  const [baseSha, headSha] = makeOrigin(origin, [BASE, head]) as [string, string];
  return { origin, baseSha, headSha, workspace: checkoutShallow(origin, path.join(tmp, "workspace")) };
}

/** The push to main that made the base commit: its job runs the Action and uploads the report. */
async function pushRunOfBase(repo: Repo): Promise<string> {
  const workspace = path.join(tmp, "main");
  git(tmp, "clone", "-q", `file://${repo.origin}`, workspace);
  git(workspace, "checkout", "-q", repo.baseSha);
  const run = await runAction({
    workspace,
    runnerDir: path.join(tmp, "runner-main"),
    event: "push",
    payload: pushPayload(repo.baseSha),
    inputs: {},
    apiUrl: github.url,
    runId: PUSH_RUN,
    sha: repo.baseSha,
    ref: "refs/heads/main",
  });
  expect(run.exitCode, describeRun(run)).toBe(0);
  return readFileSync(run.outputs["report"]!, "utf8");
}

function store(repo: Repo, text: string, expired = false): void {
  github.addRun({
    owner: OWNER,
    repo: REPO,
    id: PUSH_RUN,
    headSha: repo.baseSha,
    artifacts: [{ name: "membudget-report", files: { "membudget-report.json": text }, expired }],
  });
}

function onPullRequest(repo: Repo): Promise<ActionRun> {
  return runAction({
    workspace: repo.workspace,
    runnerDir: path.join(tmp, "runner"),
    event: "pull_request",
    payload: pullRequestPayload({ number: PR, baseSha: repo.baseSha, headSha: repo.headSha }),
    inputs: { comment: "always", "fail-on": "never" },
    apiUrl: github.url,
    runId: 9001,
    sha: repo.headSha,
    ref: `refs/pull/${PR}/merge`,
  });
}

const describeRun = (run: ActionRun) => `exit ${run.exitCode}\n${run.stdout}\n${run.stderr}`;
const scenario = (report: Report, name: string) => report.scenarios.find((s) => s.name === name)!;
const comment = () => github.comments(OWNER, REPO, PR)[0]!.body;
const RUN_URL = `https://github.com/${REPOSITORY}/actions/runs/${PUSH_RUN}`;
/** The group the Action opens when it measures anything at the base. */
const MEASURED_AT_BASE = /::group::membudget: measuring .* at the base/;

describe("the base from main's stored report", () => {
  it("reuses every scenario's base figures when nothing that produced them changed: no base worktree", async () => {
    const repo = repoWith({ "NOTES.md": "A change that does not touch the workloads.\n" });
    const storedText = await pushRunOfBase(repo);
    const stored = JSON.parse(storedText) as Report;
    store(repo, storedText);

    const run = await onPullRequest(repo);
    expect(run.exitCode, describeRun(run)).toBe(0);
    expect(run.stdout).not.toMatch(MEASURED_AT_BASE);
    expect(git(repo.workspace, "worktree", "list").split("\n")).toHaveLength(1);
    const report = readReport(run.outputs["report"]!);
    expect(report.base?.commit).toBe(repo.baseSha);
    for (const name of ["hold", "small"]) {
      const s = scenario(report, name);
      expect(s.baseOrigin).toEqual({ from: "report", run: RUN_URL });
      // The stored figures, exactly.
      expect(s.metrics.peakHeap!.base!.value).toBe(scenario(stored, name).metrics.peakHeap!.value);
    }
    expect(report.notes ?? []).toEqual([]);
    expect(comment()).toContain(
      `Base figures from [the base's stored report](${RUN_URL}) for every scenario.`,
    );
    // The artifact was found among main's push runs of the base commit, then downloaded.
    const asked = github.requests.map((r) => `${r.method} ${r.path}`);
    expect(asked).toContain(`GET /repos/${OWNER}/${REPO}/actions/workflows/membudget.yml/runs`);
    const runs = github.requests.find((r) => r.path.endsWith("/runs"))!;
    expect(runs.query).toMatchObject({ head_sha: repo.baseSha, event: "push", status: "completed" });
    expect(asked.some((a) => /\/actions\/artifacts\/\d+\/zip$/.test(a))).toBe(true);
  });

  it("measures alone at the base the one scenario whose command changed, and says why", async () => {
    const repo = repoWith({ "membudget.json": budgets("python3 fresh.py --again") });
    store(repo, await pushRunOfBase(repo));

    const run = await onPullRequest(repo);
    expect(run.exitCode, describeRun(run)).toBe(0);
    expect(run.stdout).toContain("::group::membudget: measuring 1 scenario at the base");
    const report = readReport(run.outputs["report"]!);
    expect(scenario(report, "hold").baseOrigin).toEqual({ from: "report", run: RUN_URL });
    expect(scenario(report, "small").baseOrigin).toEqual({ from: "measured", why: "its command changed" });
    // Measured at the base commit with the head's command: fresh.py holds 1 MiB.
    const small = scenario(report, "small").metrics.peakHeap!;
    expect(small.base!.value / MiB).toBeCloseTo(1, 1);
    expect(scenario(report, "hold").metrics.peakHeap!.base!.value / (20 * MiB)).toBeCloseTo(1, 1);
    expect(comment()).toContain(
      `Base figures from [the base's stored report](${RUN_URL}) for 1 scenario; measured at the base: small (its command changed).`,
    );
    expect(git(repo.workspace, "worktree", "list").split("\n")).toHaveLength(1);
  });

  it("draws a regressed scenario's trend from main's 20 last stored reports: a line in the comment, every commit in the summary", async () => {
    // The head holds 30 MiB where the base held 20: regressed (+50 %), still within its 40 MiB.
    const repo = repoWith({ "hold.py": fixture("workloads/hold_30mib.py") });
    const storedText = await pushRunOfBase(repo);
    store(repo, storedText);
    // 24 earlier pushes to the default branch, each a commit whose hold crept up 1 % (older runs have lower ids).
    const stored = JSON.parse(storedText) as Report;
    const held = scenario(stored, "hold").metrics.peakHeap!.value;
    for (let i = 0; i < 24; i++) {
      const commit = (i + 1).toString(16).padStart(40, "c");
      const earlier: Report = {
        ...stored,
        commit,
        scenarios: stored.scenarios.map((s) =>
          s.name === "hold"
            ? {
                ...s,
                metrics: {
                  ...s.metrics,
                  peakHeap: { ...s.metrics.peakHeap!, value: Math.round(held * (0.76 + i * 0.01)) },
                },
              }
            : s,
        ),
      };
      github.addRun({
        owner: OWNER,
        repo: REPO,
        id: 400 + i,
        headSha: commit,
        branch: "master",
        artifacts: [
          { name: "membudget-report", files: { "membudget-report.json": JSON.stringify(earlier) } },
        ],
      });
    }
    // The push run kept the passing scenario's sites sampled in its measured run, ten a list at most.
    const storedSites = scenario(stored, "hold").sites!;
    expect(storedSites.method).toBe("sampled");
    expect(storedSites.peak!.length).toBeGreaterThan(0);
    expect(storedSites.peak!.length).toBeLessThanOrEqual(10);
    const run = await onPullRequest(repo);
    expect(run.exitCode, describeRun(run)).toBe(0);
    const report = readReport(run.outputs["report"]!);
    const hold = scenario(report, "hold");
    expect(hold.status).toBe("regressed");
    // The site diff against the stored base's sites, with nothing run at the base and no traced run.
    expect(run.stdout).not.toMatch(MEASURED_AT_BASE);
    expect(run.stdout).not.toContain("allocation sites at the base");
    expect(run.stdout).not.toContain("finding the allocation sites");
    expect(hold.sites!.method).toBe("sampled");
    expect(hold.sites!.diff![0]!.location).toMatch(/^hold\.py:4\b/);
    const points = hold.trend!.metrics.peakHeap!;
    // The newest 20 runs of the default branch (the base's own run is not on "master" here), oldest first.
    expect(points).toHaveLength(20);
    expect(points[0]!.commit).toBe((5).toString(16).padStart(40, "c"));
    expect(points.at(-1)!.commit).toBe((24).toString(16).padStart(40, "c"));
    expect(points.map((p) => p.value)).toEqual(
      Array.from({ length: 20 }, (_, i) => Math.round(held * (0.76 + (i + 4) * 0.01))),
    );
    expect(points[0]!.run).toBe(`https://github.com/${REPOSITORY}/actions/runs/404`);
    expect(hold.trend!.branch).toBe("master");
    // The passing scenario gets none.
    expect(scenario(report, "small").trend).toBeUndefined();
    const line =
      /📈 hold, peak heap over the last 20 commits of master: `[▁▂▃▄▅▆▇█]{21}` [\d.]+ MiB → [\d.]+ MiB \(\+\d+\.\d%\); this pull request 30\.\d MiB/;
    expect(comment()).toMatch(line);
    expect(comment()).not.toContain("peak heap at each commit");
    expect(run.summary).toMatch(line);
    expect(run.summary).toContain("hold: peak heap at each commit");
    expect(run.summary).toContain(
      `| [\`${(24).toString(16).padStart(40, "c").slice(0, 7)}\`](https://github.com/${REPOSITORY}/actions/runs/423) |`,
    );
    // Two listings of runs (the base commit's, the branch's), and one artifact listing and download per report.
    const runListings = github.requests.filter((r) => r.path.endsWith("/runs"));
    expect(runListings.map((r) => r.query["branch"] ?? r.query["head_sha"])).toEqual([
      repo.baseSha,
      "master",
    ]);
    expect(github.requests.filter((r) => r.path.endsWith("/zip"))).toHaveLength(21);
  });

  it("an expired artifact: measures the base, and says why once", async () => {
    const repo = repoWith({ "NOTES.md": "A change.\n" });
    store(repo, await pushRunOfBase(repo), true);
    const run = await onPullRequest(repo);
    expect(run.exitCode, describeRun(run)).toBe(0);
    expect(run.stdout).toMatch(MEASURED_AT_BASE);
    const report = readReport(run.outputs["report"]!);
    expect(report.notes).toEqual([
      `The base's figures were measured here: the artifact \`membudget-report\` of run ${RUN_URL} has expired.`,
    ]);
    expect(scenario(report, "hold").metrics.peakHeap!.base!.value / (20 * MiB)).toBeCloseTo(1, 1);
    expect(scenario(report, "hold").baseOrigin).toEqual({ from: "measured" });
    expect(comment().match(/has expired/g)).toHaveLength(1);
    expect(comment()).not.toContain("Base figures from");
  });

  it("no permission to read the runs: measures the base, and says what the job needs once", async () => {
    const repo = repoWith({ "NOTES.md": "A change.\n" });
    store(repo, await pushRunOfBase(repo));
    github.denyActions();
    const run = await onPullRequest(repo);
    expect(run.exitCode, describeRun(run)).toBe(0);
    const report = readReport(run.outputs["report"]!);
    expect(report.notes).toHaveLength(1);
    expect(report.notes![0]).toMatch(/GitHub answered 403.*`permissions: actions: read`/);
    expect(scenario(report, "small").metrics.peakHeap!.base!.value / MiB).toBeCloseTo(1, 1);
    expect(comment().match(/actions: read/g)).toHaveLength(1);
    // The comment still went up: only the actions endpoints were refused.
    expect(run.outputs["comment-url"]).not.toBe("");
  });
});
