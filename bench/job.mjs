// The cost of the Action's job on a pull request (issue 26): an example app's workloads run once
// bare, side by side with `node dist/index.js` run as a runner runs it on a pull_request event (a
// real payload), against the loopback GitHub API (test/helpers/fake-github.ts) that serves the base
// commit's push run and its report artifact. Medians of alternating runs. Runs alone
// (`node bench/job.mjs`, after `npm run build`; Node ≥ 23.6 for the TypeScript helper) and as a
// section of `npm run bench`, which prints what this prints.
import { execFileSync, spawn } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startFakeGitHub } from "../test/helpers/fake-github.ts";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const ACTION = join(ROOT, "dist", "index.js");
const TMP = mkdtempSync(join(tmpdir(), "membudget-bench-job-"));
const ROUNDS = Number(process.env.MEMBUDGET_BENCH_JOB_ROUNDS ?? 3);
const REPOSITORY = "Codertocat/Hello-World";
const TOKEN = "bench-token";

/** The app: a catalog, an ingest loop, a pytest suite and a Node.js map, budgets on heap figures. */
function budgets(rows) {
  return `${JSON.stringify(
    {
      defaults: { repeat: 1, timeout: "5m", tolerance: "5%" },
      scenarios: {
        "catalog-dicts": {
          run: `python3 examples/python/catalog.py --layout dicts --rows ${rows}`,
          budget: { peakHeap: "72 MiB", allocated: "160 MiB" },
        },
        "catalog-slots": {
          run: `python3 examples/python/catalog.py --layout slots --rows ${rows}`,
          budget: { peakHeap: "64 MiB" },
        },
        ingest: { run: "python3 examples/python/ingest.py --lines 300000", budget: { allocations: "8M" } },
        "pytest-catalog": {
          run: "python3 -m pytest -q -p no:cacheprovider examples/python/pytest/tests",
          budget: { peakHeap: "32 MiB" },
        },
        "node-sessions": { run: "node examples/node/sessions.mjs 100000", budget: { peakHeap: "64 MiB" } },
      },
    },
    null,
    2,
  )}\n`;
}

const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: "bench",
  GIT_AUTHOR_EMAIL: "bench@membudget.invalid",
  GIT_COMMITTER_NAME: "bench",
  GIT_COMMITTER_EMAIL: "bench@membudget.invalid",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_CONFIG_GLOBAL: "/dev/null",
};
const git = (cwd, ...args) => execFileSync("git", args, { cwd, env: GIT_ENV, encoding: "utf8" }).trim();

/** An origin whose main has the app (base) and a pull request's head on top; returns the shas. */
function origin(dir, head) {
  mkdirSync(dir, { recursive: true });
  git(dir, "init", "-q", "-b", "main");
  cpSync(join(ROOT, "examples"), join(dir, "examples"), { recursive: true });
  writeFileSync(join(dir, "membudget.json"), budgets(200_000));
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "the app");
  const base = git(dir, "rev-parse", "HEAD");
  for (const [file, text] of Object.entries(head)) writeFileSync(join(dir, file), text);
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "-m", "the pull request");
  return { base, head: git(dir, "rev-parse", "HEAD") };
}

const payloadFixture = JSON.parse(
  readFileSync(join(ROOT, "test", "fixtures", "github", "pull_request.synchronize.json"), "utf8"),
);
const pushFixture = JSON.parse(readFileSync(join(ROOT, "test", "fixtures", "e2e", "push.json"), "utf8"));

let step = 0;
/** `node dist/index.js` as the runner starts a `uses:` step; resolves with its exit code and seconds. */
function runAction({ workspace, event, payload, apiUrl, runId, sha, ref, inputs = {} }) {
  const dir = join(TMP, `step-${++step}`);
  mkdirSync(join(dir, "temp"), { recursive: true });
  writeFileSync(join(dir, "event.json"), JSON.stringify(payload));
  writeFileSync(join(dir, "output.txt"), "");
  writeFileSync(join(dir, "summary.md"), "");
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    ...Object.fromEntries(
      ["PYENV_ROOT", "PYENV_VERSION", "LANG", "MEMBUDGET_CACHE_DIR"]
        .filter((k) => process.env[k])
        .map((k) => [k, process.env[k]]),
    ),
    ...Object.fromEntries(Object.entries(inputs).map(([k, v]) => [`INPUT_${k.toUpperCase()}`, v])),
    "INPUT_GITHUB-TOKEN": TOKEN,
    TMPDIR: join(dir, "temp"),
    CI: "true",
    GITHUB_ACTIONS: "true",
    RUNNER_TEMP: join(dir, "temp"),
    GITHUB_EVENT_NAME: event,
    GITHUB_EVENT_PATH: join(dir, "event.json"),
    GITHUB_REPOSITORY: REPOSITORY,
    GITHUB_WORKSPACE: workspace,
    GITHUB_OUTPUT: join(dir, "output.txt"),
    GITHUB_STEP_SUMMARY: join(dir, "summary.md"),
    GITHUB_API_URL: apiUrl,
    GITHUB_SERVER_URL: "https://github.com",
    GITHUB_RUN_ID: String(runId),
    GITHUB_RUN_ATTEMPT: "1",
    GITHUB_JOB: "membudget",
    GITHUB_SHA: sha,
    GITHUB_REF: ref,
    GITHUB_WORKFLOW: "membudget",
    GITHUB_WORKFLOW_REF: `${REPOSITORY}/.github/workflows/membudget.yml@${ref}`,
  };
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ACTION], {
      cwd: workspace,
      env,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let log = "";
    child.stdout.on("data", (d) => (log += d));
    child.stderr.on("data", (d) => (log += d));
    child.on("error", reject);
    child.on("close", (code) => {
      const outputs = readFileSync(join(dir, "output.txt"), "utf8");
      const report = outputs.match(/^report<<(.+)\n([^\n]*)\n/m)?.[2];
      resolve({ code, seconds: (performance.now() - t0) / 1000, log, report });
    });
  });
}

/** Each scenario's command once, one after another, in the workspace: what the workloads cost. */
function bare(workspace, file) {
  const plan = JSON.parse(readFileSync(join(workspace, file), "utf8"));
  const t0 = performance.now();
  for (const s of Object.values(plan.scenarios)) {
    execFileSync("/bin/sh", ["-c", s.run], { cwd: workspace, stdio: "ignore" });
  }
  return (performance.now() - t0) / 1000;
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

async function measureCase({ label, head, stored, target, expectCode }) {
  const dir = join(TMP, label.replace(/\W+/g, "-"));
  const shas = origin(join(dir, "origin"), head);
  const github = await startFakeGitHub();
  try {
    if (stored) {
      // main's push run of the base commit, as the README's workflow leaves it: the report uploaded.
      const main = join(dir, "main");
      git(dir, "clone", "-q", `file://${join(dir, "origin")}`, main);
      git(main, "checkout", "-q", shas.base);
      const push = await runAction({
        workspace: main,
        event: "push",
        payload: {
          ...pushFixture,
          after: shas.base,
          head_commit: { ...pushFixture.head_commit, id: shas.base },
        },
        apiUrl: github.url,
        runId: 500,
        sha: shas.base,
        ref: "refs/heads/main",
      });
      if (push.code !== 0 || !push.report) throw new Error(`the push run failed: ${push.log.slice(-800)}`);
      const [owner, repo] = REPOSITORY.split("/");
      github.addRun({
        owner,
        repo,
        id: 500,
        headSha: shas.base,
        branch: "master",
        artifacts: [
          { name: "membudget-report", files: { "membudget-report.json": readFileSync(push.report, "utf8") } },
        ],
      });
    }
    const workspace = join(dir, "workspace");
    git(dir, "clone", "-q", "--depth=1", `file://${join(dir, "origin")}`, workspace);
    const payload = structuredClone(payloadFixture);
    payload.pull_request.base.sha = shas.base;
    payload.pull_request.head.sha = shas.head;
    const job = [];
    const plain = [];
    let last;
    for (let round = 0; round < ROUNDS; round++) {
      const pr = () =>
        runAction({
          workspace,
          event: "pull_request",
          payload,
          apiUrl: github.url,
          runId: 9000 + round,
          sha: shas.head,
          ref: "refs/pull/2/merge",
          inputs: { comment: "auto" },
        });
      // Alternating, the order swapped each round, so that both share the machine's noise.
      if (round % 2 === 0) {
        plain.push(bare(workspace, "membudget.json"));
        last = await pr();
      } else {
        last = await pr();
        plain.push(bare(workspace, "membudget.json"));
      }
      if (last.code !== expectCode)
        throw new Error(`the pull request's job exited ${last.code}: ${last.log.slice(-1500)}`);
      job.push(last.seconds);
    }
    const measuredAtBase = (last.log.match(
      /::group::membudget: measuring (\d+ scenarios?|1 scenario) at the base/,
    ) ?? [])[1];
    const ratio = median(job) / median(plain);
    return {
      label,
      bare: median(plain),
      job: median(job),
      ratio,
      target,
      base: stored
        ? measuredAtBase
          ? `stored report; measured ${measuredAtBase}`
          : "stored report, all reused"
        : "measured",
    };
  } finally {
    await github.close();
  }
}

export async function jobSection() {
  const out = ["## The job on a pull request (node dist/index.js, loopback API)", ""];
  const cases = [
    {
      label: "passing PR, base report reused",
      head: { "NOTES.md": "docs only\n" },
      stored: true,
      target: 1.3,
      expectCode: 0,
    },
    {
      label: "passing PR, base measured",
      head: { "NOTES.md": "docs only\n" },
      stored: false,
      target: 2.2,
      expectCode: 0,
    },
    {
      label: "failing PR, base report reused",
      // Each product dict gets a note: the catalog's peak heap goes past its budget; the command is the same.
      head: {
        "examples/python/catalog.py": readFileSync(
          join(ROOT, "examples", "python", "catalog.py"),
          "utf8",
        ).replace('"stock": i % 500}', '"stock": i % 500, "note": f"product {i} of the catalog, in stock"}'),
      },
      stored: true,
      target: 1.5,
      expectCode: 1,
    },
  ];
  const rows = [];
  for (const c of cases) {
    process.stderr.write(`job: ${c.label}\n`);
    try {
      rows.push(await measureCase(c));
    } catch (error) {
      rows.push({
        label: c.label,
        error: String(error.message).replace(/\s+/g, " ").slice(0, 400),
        target: c.target,
      });
    }
  }
  out.push(
    "| case | workloads once, bare | the job | ÷ bare | target | base | verdict |",
    "|---|---:|---:|---:|---:|---|---|",
    ...rows.map((r) =>
      r.error
        ? `| ${r.label} | — | — | — | ≤ ${r.target}× | failed: ${r.error} | MISS |`
        : `| ${r.label} | ${r.bare.toFixed(2)} s | ${r.job.toFixed(2)} s | ${r.ratio.toFixed(2)}× | ≤ ${r.target}× | ${r.base} | ${r.ratio <= r.target ? "PASS" : "MISS"} |`,
    ),
    "",
    `Medians of ${ROUNDS} alternating rounds. The app: a 200k-row catalog in two layouts, an ingest loop, a 3-test pytest suite and a Node.js map of 100k sessions (examples/), budgets on heap figures (one run each, no clean run). The failing pull request gives each product dict a note (64 → 81 MiB peak heap): over budget: its allocation sites come from its measured run and are diffed against those the push run stored (no run at the base, no traced run), and the job reads the trend. Bare: each scenario's command once, one after another.`,
    "",
  );
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    process.stdout.write(`${(await jobSection()).join("\n")}\n`);
  } finally {
    rmSync(TMP, { recursive: true, force: true });
  }
}
