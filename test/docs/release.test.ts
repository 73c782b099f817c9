// The release workflow (.github/workflows/release.yml), read by GitHub's parser: what it runs on, in
// what order, with which permissions; its shell steps run here as the runner would run them.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type Plain, parseWorkflowFile } from "./github-parser.js";
import { ROOT } from "./markdown.js";

type Obj = Record<string, Plain>;
const obj = (v: Plain | undefined): Obj => (v && typeof v === "object" && !Array.isArray(v) ? v : {});
const list = (v: Plain | undefined): Plain[] => (Array.isArray(v) ? v : []);

let workflow: Obj;
let jobs: Obj;
beforeAll(async () => {
  const file = ".github/workflows/release.yml";
  const parsed = await parseWorkflowFile(file, readFileSync(path.join(ROOT, file), "utf8"));
  expect(parsed.errors).toEqual([]);
  workflow = obj(parsed.data);
  jobs = obj(workflow["jobs"]);
});

/** A step of a job by its name (or its `run:` command). */
function step(job: string, named: string | RegExp): Obj {
  const found = list(obj(jobs[job])["steps"])
    .map(obj)
    .find((s) =>
      typeof named === "string" ? s["name"] === named : named.test(String(s["run"] ?? s["uses"] ?? "")),
    );
  if (!found) throw new Error(`release.yml: job ${job} has no step ${named}`);
  return found;
}

const runs = (job: string) =>
  list(obj(jobs[job])["steps"])
    .map((s) => obj(s)["run"])
    .filter((r): r is string => typeof r === "string");

describe("release.yml", () => {
  it("runs on a version tag, and only there", () => {
    expect(obj(workflow["on"])).toEqual({ push: { tags: ["v[0-9]+.[0-9]+.[0-9]+"] } });
    expect(obj(workflow["permissions"])).toEqual({ contents: "read" });
  });

  it("checks, then publishes, then moves the major tag", () => {
    expect(Object.keys(jobs)).toEqual(["check", "publish", "major-tag"]);
    expect(obj(jobs["publish"])["needs"]).toBe("check");
    expect(obj(jobs["major-tag"])["needs"]).toBe("publish");
    expect(runs("check")).toEqual(expect.arrayContaining(["npm ci", "npm test"]));
    expect(String(step("check", "dist/ is the build of src/")["run"])).toMatch(
      /npm run build[\s\S]*git diff --exit-code/,
    );
  });

  it("publishes the committed package with provenance, and only the publish job may mint an OIDC token", () => {
    expect(runs("publish")).toContain("npm publish --provenance --access public --ignore-scripts");
    expect(obj(obj(jobs["publish"])["permissions"])["id-token"]).toBe("write");
    expect(obj(obj(jobs["check"])["permissions"])).toEqual({});
    expect(obj(step("publish", /actions\/setup-node@/)["with"])["registry-url"]).toBe(
      "https://registry.npmjs.org",
    );
    expect(obj(obj(jobs["major-tag"])["permissions"])).toEqual({ contents: "write" });
  });

  it("uses the Node.js of .nvmrc, as CI does", () => {
    for (const job of ["check", "publish"])
      expect(obj(step(job, /actions\/setup-node@/)["with"])["node-version-file"]).toBe(".nvmrc");
    expect(readFileSync(path.join(ROOT, ".nvmrc"), "utf8").trim()).toMatch(/^\d+$/);
  });
});

describe("release.yml's shell steps, run by bash as the runner runs them", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "membudget-release-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const bash = (script: string, cwd: string, env: Record<string, string>) =>
    spawnSync("bash", ["-e", "-o", "pipefail", "-c", script], {
      cwd,
      encoding: "utf8",
      env: { PATH: process.env["PATH"], HOME: dir, ...env },
    });

  it("refuses a tag that is not package.json's version", () => {
    const script = String(step("check", "The tag is package.json's version")["run"]);
    const version = (JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string })
      .version;
    expect(bash(script, ROOT, { TAG: `v${version}` }).status).toBe(0);
    const wrong = bash(script, ROOT, { TAG: "v9.9.9" });
    expect(wrong.status).toBe(1);
    expect(wrong.stdout).toContain(`The tag is v9.9.9, package.json's version is ${version}`);
  });

  it("points v0 at the released commit, and moves it at the next release", () => {
    const git = (cwd: string, ...args: string[]) =>
      execFileSync("git", args, {
        cwd,
        encoding: "utf8",
        env: {
          PATH: process.env["PATH"],
          HOME: dir,
          GIT_CONFIG_NOSYSTEM: "1",
          GIT_AUTHOR_NAME: "r",
          GIT_AUTHOR_EMAIL: "r@x.invalid",
          GIT_COMMITTER_NAME: "r",
          GIT_COMMITTER_EMAIL: "r@x.invalid",
        },
      }).trim();
    const origin = path.join(dir, "origin.git");
    const clone = path.join(dir, "clone");
    git(dir, "init", "-q", "--bare", "-b", "main", origin);
    git(dir, "clone", "-q", origin, clone);
    const commit = (n: number) => {
      writeFileSync(path.join(clone, "f"), String(n));
      git(clone, "add", "f");
      git(clone, "commit", "-q", "-m", `c${n}`);
      git(clone, "push", "-q", "origin", "HEAD:main");
      return git(clone, "rev-parse", "HEAD");
    };
    const script = String(step("major-tag", "Move the major tag to this release")["run"]);
    const first = commit(1);
    const second = commit(2);
    for (const [tag, sha] of [
      ["v0.1.0", first],
      ["v0.2.0", second],
    ] as const) {
      const moved = bash(script, clone, { TAG: tag, GITHUB_SHA: sha });
      expect(moved.status, moved.stderr).toBe(0);
      expect(git(origin, "rev-parse", "v0")).toBe(sha);
    }
  });
});
