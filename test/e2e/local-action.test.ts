// GitHub's local runner for JavaScript actions (@github/local-action, what action authors debug with)
// runs the Action from its TypeScript source, as CONTRIBUTING.md shows, against a loopback GitHub API.
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, expect, it } from "vitest";
import { stickyMarker } from "../../src/github/comment.js";
import type { Report } from "../../src/model/report.js";
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

it("npx local-action run . src/action/main.ts .env measures, writes the summary and posts the comment", async () => {
  const [baseSha, headSha] = makeOrigin(path.join(tmp, "origin"), [
    { "membudget.json": fixture("budgets/within.json"), "hold.py": fixture("workloads/hold_20mib.py") },
    { "NOTES.md": "A change that does not touch the workload.\n" },
  ]) as [string, string];
  const workspace = checkoutShallow(path.join(tmp, "origin"), path.join(tmp, "workspace"));
  const event = path.join(tmp, "event.json");
  writeFileSync(event, JSON.stringify(pullRequestPayload({ number: PR, baseSha, headSha })));
  const summary = path.join(tmp, "summary.md");
  writeFileSync(summary, "");
  // The .env of CONTRIBUTING.md: the runner's variables and the step's inputs (the local runner
  // fills in action.yml's defaults for the others).
  const dotenv = path.join(tmp, ".env");
  writeFileSync(
    dotenv,
    [
      `GITHUB_WORKSPACE=${workspace}`,
      "GITHUB_EVENT_NAME=pull_request",
      `GITHUB_EVENT_PATH=${event}`,
      `GITHUB_REPOSITORY=${REPOSITORY}`,
      `GITHUB_SHA=${headSha}`,
      "GITHUB_JOB=membudget",
      `GITHUB_API_URL=${github.url}`,
      `GITHUB_STEP_SUMMARY=${summary}`,
      "GITHUB_TOKEN=ghs_localActionTokenNotReal",
      "INPUT_COMPARE=none",
      "INPUT_COMMENT=always",
      "",
    ].join("\n"),
  );

  // The local runner asks npm where @actions/core is (to put its stubs there): it runs in the clone.
  const child = spawn("npx", ["--no-install", "local-action", "run", ".", "src/action/main.ts", dotenv], {
    cwd: ROOT,
    env: { PATH: process.env["PATH"], HOME: process.env["HOME"], TMPDIR: tmp, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    output += d;
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    output += d;
  });
  // Asynchronous: the fake GitHub answers from this process.
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  expect(code, output).toBe(0);
  expect(output).not.toMatch(/::error::|does not export a run\(\) function/);
  expect(output).toMatch(/│\s*\d+\s*│\s*'status'\s*│\s*'pass'\s*│/);

  const comments = github.comments(OWNER, REPO, PR);
  expect(comments, output).toHaveLength(1);
  expect(comments[0]!.body.startsWith(`${stickyMarker("membudget")}\n### ✅ membudget`)).toBe(true);
  expect(comments[0]!.body).toContain("**hold**");
  expect(readFileSync(summary, "utf8")).toContain("**hold**");
  const report = JSON.parse(readFileSync(path.join(workspace, "membudget-report.json"), "utf8")) as Report;
  expect(report.commit).toBe(headSha);
  expect(report.scenarios[0]!.metrics.peakHeap!.value).toBeGreaterThan(20 * 1024 * 1024);
});
