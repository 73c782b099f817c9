// GitHub's local runner for JavaScript actions (@github/local-action, what action authors debug with)
// runs the Action from its TypeScript source with CONTRIBUTING.md's example .env, against a loopback GitHub API.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { stickyMarker } from "../../src/github/comment.js";
import type { Report } from "../../src/model/report.js";
import { codeBlocks, readDocument } from "../docs/markdown.js";
import { type FakeGitHub, startFakeGitHub } from "../helpers/fake-github.js";
import {
  checkoutShallow,
  fixture,
  makeOrigin,
  OWNER,
  pullRequestPayload,
  REPO,
  REPOSITORY,
  ROOT,
} from "./helpers.js";

const PR = 7;

let github: FakeGitHub;
let tmp: string;
beforeEach(async () => {
  github = await startFakeGitHub();
  tmp = mkdtempSync(path.join(tmpdir(), "membudget-local-action-"));
});
afterEach(async () => {
  await github.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** `npx @github/local-action run . src/action/main.ts <dotenv>` in the clone, as CONTRIBUTING.md says. */
async function localAction(dotenv: string): Promise<{ code: number | null; output: string }> {
  // The local runner asks npm where @actions/core is (to put its stubs there): it runs in the clone.
  const child = spawn(
    "npx",
    ["--no-install", "@github/local-action", "run", ".", "src/action/main.ts", dotenv],
    {
      cwd: ROOT,
      env: { PATH: process.env["PATH"], HOME: process.env["HOME"], TMPDIR: tmp, NO_COLOR: "1" },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    output += d;
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    output += d;
  });
  // Asynchronous: the fake GitHub answers from this process.
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  return { code, output };
}

/** The local runner's table of the step's outputs: `│ 0 │ 'status' │ 'pass' │`. */
const outputRow = (name: string, value: string) =>
  new RegExp(`│\\s*\\d+\\s*│\\s*'${name}'\\s*│\\s*'${value}'\\s*│`);

it("runs CONTRIBUTING.md's example .env, with the lines it adds for a pull request: measures, writes the summary, posts the comment", async () => {
  const block = codeBlocks(readDocument("CONTRIBUTING.md")).find((b) => b.body.startsWith("# .env"));
  if (!block) throw new Error("CONTRIBUTING.md has no ```sh block starting with # .env");
  const [baseSha, headSha] = makeOrigin(path.join(tmp, "origin"), [
    { "membudget.json": fixture("budgets/within.json"), "hold.py": fixture("workloads/hold_20mib.py") },
    { "NOTES.md": "A change that does not touch the workload.\n" },
  ]) as [string, string];
  const workspace = checkoutShallow(path.join(tmp, "origin"), path.join(tmp, "my-project"));
  const event = path.join(tmp, "event.json");
  writeFileSync(event, JSON.stringify(pullRequestPayload({ number: PR, baseSha, headSha })));
  const summary = path.join(tmp, "membudget-summary.md");
  writeFileSync(summary, "");
  // The example as written but for its paths; then what it says to add for a pull request (a
  // later line wins), and the API: the tests' GitHub on 127.0.0.1.
  const dotenv = path.join(tmp, ".env");
  writeFileSync(
    dotenv,
    [
      block.body
        .replace(/^GITHUB_WORKSPACE=.*$/m, `GITHUB_WORKSPACE=${workspace}`)
        .replace(/^GITHUB_STEP_SUMMARY=.*$/m, `GITHUB_STEP_SUMMARY=${summary}`)
        .replace(/^GITHUB_REPOSITORY=.*$/m, `GITHUB_REPOSITORY=${REPOSITORY}`),
      "GITHUB_EVENT_NAME=pull_request",
      `GITHUB_EVENT_PATH=${event}`,
      `GITHUB_SHA=${headSha}`,
      "GITHUB_TOKEN=ghs_localActionTokenNotReal",
      "INPUT_COMMENT=always",
      `GITHUB_API_URL=${github.url}`,
      "",
    ].join("\n"),
  );
  const { code, output } = await localAction(dotenv);
  expect(code, output).toBe(0);
  expect(output).not.toMatch(/::error::|does not export a run\(\) function/);
  expect(output).toMatch(outputRow("status", "pass"));

  const comments = github.comments(OWNER, REPO, PR);
  expect(comments, output).toHaveLength(1);
  expect(comments[0]!.body.startsWith(`${stickyMarker("membudget")}\n### ✅ membudget`)).toBe(true);
  expect(comments[0]!.body).toContain("**hold**");
  expect(readFileSync(summary, "utf8")).toContain("**hold**");
  const report = JSON.parse(readFileSync(path.join(workspace, "membudget-report.json"), "utf8")) as Report;
  expect(report.commit).toBe(headSha);
  expect(report.scenarios[0]!.metrics.peakHeap!.value).toBeGreaterThan(20 * 1024 * 1024);
});
