// `comment: from-report` given a forged report, through dist/index.js and the loopback GitHub API:
// nothing of the report reaches the comment as markup (issue 10, item 1), and nothing is posted
// unless a workflow_run event vouches for the report's commit (item 2).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Report } from "../../src/model/report.js";
import { CHROMIUM, commentPage, openInChromium, parseHtml } from "../helpers/comment-page.js";
import { type FakeGitHub, startFakeGitHub } from "../helpers/fake-github.js";
import { MiB, report } from "../helpers/reports.js";
import {
  OWNER,
  PULL_REQUEST,
  pullRequestPayload,
  REPO,
  type RunOptions,
  runAction,
  workflowRunPayload,
} from "./helpers.js";

const PR = 42;
const HEAD = "4c1e5d2b9a8f7e6d5c4b3a29181716151413121f";
const BASE = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567";
const UPSTREAM_RUN = 5150;
const PWN = `document.title='pwned'`;

let github: FakeGitHub;
let tmp: string;
beforeEach(async () => {
  github = await startFakeGitHub();
  tmp = mkdtempSync(path.join(tmpdir(), "membudget-forged-"));
});
afterEach(async () => {
  await github.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** What a hostile fork's job can upload as its report: every string chosen to become markup. */
function forgedReport(overrides: Partial<Report> = {}): Report {
  const r = report([
    {
      name: `x|y <img src=x onerror="${PWN}"> @admin #7`,
      runs: [{ peakHeap: 2 * MiB }],
      budget: { peakHeap: MiB },
    },
    { name: "crash", runs: [{ peakHeap: MiB }], error: `</summary></details><img src=x onerror="${PWN}">` },
  ]);
  // Set after judging, as a forger edits the file: the judge would have rewritten the summary.
  Object.assign(r, {
    commit: HEAD,
    summary: `<img src=x onerror="${PWN}"> all fine, @octocat, see #123 and https://evil.example/phish`,
    base: { source: `[login](javascript:alert(1)) <script>${PWN}</script>`, commit: "abc`<b>x</b>" },
    links: {
      summary: "javascript:alert(document.domain)",
      run: "https://evil.example/login",
      repository: "https://evil.example/o/r",
    },
    notes: [`[click](javascript:alert(1)) @org/team #1 <script>${PWN}</script> www.evil.example`],
    pullRequest: {
      number: PR,
      repository: `${OWNER}/${REPO}`,
      baseSha: BASE,
      headSha: HEAD,
      commentKey: "measure",
    },
    ...overrides,
  });
  r.tool.version = `0.1.0 <img src=x onerror="${PWN}">`;
  r.environment.os = `linux <a href="javascript:alert(1)">`;
  r.scenarios[1]!.runs[0]!.stderrTail =
    "```\n</details><img src=x onerror=\"document.title='pwned'\">\n```\n";
  return r;
}

async function postFrom(
  r: Report,
  event: string,
  payload: unknown,
  extra: Partial<RunOptions> = {},
): Promise<Awaited<ReturnType<typeof runAction>>> {
  const workspace = path.join(tmp, "workspace");
  mkdirSync(path.join(workspace, "membudget-report"), { recursive: true });
  writeFileSync(path.join(workspace, "membudget-report", "report.json"), JSON.stringify(r));
  return runAction({
    workspace,
    runnerDir: path.join(tmp, "runner"),
    event: event as RunOptions["event"],
    payload,
    inputs: { comment: "from-report", "report-path": "membudget-report/report.json" },
    apiUrl: github.url,
    runId: 6000,
    job: "comment",
    sha: BASE,
    ref: "refs/heads/main",
    ...extra,
  });
}

const writes = () => github.requests.filter((r) => r.method !== "GET");
const describeRun = (run: { exitCode: number | null; stdout: string; stderr: string }) =>
  `exit ${run.exitCode}\n${run.stdout}\n${run.stderr}`;

describe("a forged report's comment (item 1)", () => {
  it("carries no markup, no foreign link, no mention and no reference from the report", async () => {
    github.setPullRequestHead(OWNER, REPO, PR, HEAD);
    const run = await postFrom(
      forgedReport(),
      "workflow_run",
      workflowRunPayload({ id: UPSTREAM_RUN, headSha: HEAD }),
    );
    expect(run.exitCode, describeRun(run)).toBe(0);
    const [comment] = github.comments(OWNER, REPO, PR);
    expect(comment).toBeDefined();
    const body = comment!.body;

    // The markdown itself, outside the fenced output tail (inert there): no raw tag from the report,
    // no javascript: or foreign URL as a link.
    const outsideFences = body.replace(/^(`{3,})text\n[\s\S]*?\n\1$/gm, "");
    expect(outsideFences).toContain("membudget");
    expect(outsideFences).not.toMatch(/<img|<script|<a |<b>/i);
    expect(body).not.toMatch(/\]\((?!https:\/\/github\.com\/)/);
    expect(body).not.toContain("evil.example/login");
    expect(body).not.toContain("https://evil.example");
    // A pipe in the name is a pipe, not the literal "&#124;" that an escape after the entity made.
    expect(body).not.toContain("\\&#124;");
    expect(body).not.toContain("&\\#");

    // As a browser shows it (raw HTML in the markdown would be live here: marked passes it through).
    const dom = parseHtml(commentPage(body));
    const article = dom.querySelector("article")!;
    expect(article.querySelectorAll("img, script, iframe, b").length).toBe(0);
    const hrefs = Array.from(article.querySelectorAll("a"), (a) => a.getAttribute("href"));
    expect(hrefs.length).toBeGreaterThan(0);
    // Only links membudget built: this workflow's repository and the run that made the report.
    for (const href of hrefs)
      expect(href).toBe(`https://github.com/${OWNER}/${REPO}/actions/runs/${UPSTREAM_RUN}`);
    const text = article.textContent ?? "";
    // The words are still there, as text: a reader sees what the report said, nothing happens.
    expect(text).toContain(`<img src=x onerror="${PWN}">`);
    expect(text).toContain("x|y");
    // GitHub links @name and #123 in the rendered text: a zero-width space keeps them plain.
    expect(text).not.toMatch(/@(octocat|admin|org)/);
    expect(text).not.toMatch(/#(123|7|1)\b/);
    expect(text).toContain("@\u200boctocat");
    expect(text).not.toMatch(/https:\/\/evil|www\.evil/);
    // The report's commit of the wrong shape (a backtick in it) is not shown; the head is vouched for.
    expect(text).not.toContain("abc`");
    expect(text).not.toContain("<b>x</b>` →");
  });

  it.skipIf(!CHROMIUM)(
    "runs no script of the report's in a browser (chromium headless), and looks plain",
    async () => {
      github.setPullRequestHead(OWNER, REPO, PR, HEAD);
      const run = await postFrom(
        forgedReport(),
        "workflow_run",
        workflowRunPayload({ id: UPSTREAM_RUN, headSha: HEAD }),
      );
      expect(run.exitCode, describeRun(run)).toBe(0);
      const body = github.comments(OWNER, REPO, PR)[0]!.body;
      // A screenshot for a person to look at: MEMBUDGET_SCREENSHOT=path keeps it.
      const shot = process.env["MEMBUDGET_SCREENSHOT"] || path.join(tmp, "comment.png");
      const dom = openInChromium(commentPage(body, "untouched"), shot);
      expect(dom).toContain("<title>untouched</title>");
      expect(dom).not.toContain("pwned</title>");
      expect(dom).not.toMatch(/<img[^>]*onerror/);
    },
  );

  it("the same forged strings, rendered by the CLI's markdown renderer, still make no link of the report's", async () => {
    // The renderer keeps its own rules (links.ts) whatever the Action did before it.
    const { renderMarkdown } = await import("../../src/render/markdown.js");
    const md = renderMarkdown(forgedReport());
    expect(md).not.toMatch(/\]\((javascript|https:\/\/evil)/);
    const dom = parseHtml(commentPage(md));
    expect(dom.querySelectorAll("article a, article img, article script").length).toBe(0);
  });
});

describe("from-report fails closed (item 2)", () => {
  const refused = async (event: string, payload: unknown, why: RegExp) => {
    github.setPullRequestHead(OWNER, REPO, PR, HEAD);
    const run = await postFrom(forgedReport(), event, payload);
    expect(run.exitCode, describeRun(run)).toBe(1);
    expect(run.stdout).toMatch(/refusing to comment/);
    expect(run.stdout).toMatch(why);
    expect(writes()).toEqual([]);
    expect(github.comments(OWNER, REPO, PR)).toEqual([]);
  };

  it.each([
    ["push", { after: HEAD, repository: PULL_REQUEST.repository }],
    ["workflow_dispatch", { inputs: {}, repository: PULL_REQUEST.repository }],
    ["schedule", { schedule: "0 0 * * *" }],
    ["pull_request_target", pullRequestPayload({ number: PR, baseSha: BASE, headSha: HEAD })],
  ])("on %s: refuses, posts nothing", async (event, payload) => {
    await refused(event, payload, new RegExp(`only in a workflow_run job \\(this is a ${event} run`));
  });

  it("on workflow_run without its event payload: refuses", async () => {
    await refused("workflow_run", {}, /names no head commit|without its event payload/);
  });

  it("refuses a report whose commit is not the one the workflow run measured", async () => {
    github.setPullRequestHead(OWNER, REPO, PR, HEAD);
    const run = await postFrom(
      forgedReport({ commit: BASE }),
      "workflow_run",
      workflowRunPayload({ id: UPSTREAM_RUN, headSha: HEAD }),
    );
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toContain(`refusing to comment: the report is for commit "${BASE.slice(0, 12)}"`);
    expect(writes()).toEqual([]);
  });

  it("refuses a report naming another pull request than the workflow run's", async () => {
    github.setPullRequestHead(OWNER, REPO, PR, HEAD);
    const payload = workflowRunPayload({ id: UPSTREAM_RUN, headSha: HEAD }) as {
      workflow_run: Record<string, unknown>;
    };
    payload.workflow_run["pull_requests"] = [{ number: 7, head: { sha: HEAD }, base: { sha: BASE } }];
    const run = await postFrom(forgedReport(), "workflow_run", payload);
    expect(run.exitCode).toBe(1);
    expect(run.stdout).toContain(
      `refusing to comment: the report names pull request #${PR}, but the workflow run was for #7`,
    );
    expect(writes()).toEqual([]);
  });
});
