// The repository's workflows and every workflow the documentation shows, read by GitHub's parser, and checked to work as written.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { type Plain, parseActionFile, parseWorkflowFile } from "./github-parser.js";
import { codeBlocks, documents, ROOT, readDocument } from "./markdown.js";

interface Workflow {
  /** Where it is: `.github/workflows/x.yml`, or `README.md:40` for a snippet. */
  where: string;
  /** The file it would be, for a snippet the path its first comment names. */
  file: string | undefined;
  text: string;
}

interface Step {
  uses: string;
  with: Record<string, Plain>;
  /** `jobs.<id>.steps[i]`, for messages. */
  at: string;
}

type Obj = Record<string, Plain>;
const isObj = (v: Plain | undefined): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const asObj = (v: Plain | undefined): Obj => (isObj(v) ? v : {});

/** `./` (this checkout) or `<owner>/membudget@<ref>`: the steps that run this action. */
const isThisAction = (uses: string) => uses === "./" || /^[\w.-]+\/membudget@/.test(uses);

function steps(data: Plain): Step[] {
  const out: Step[] = [];
  for (const [job, spec] of Object.entries(asObj(asObj(data)["jobs"]))) {
    const list = asObj(spec)["steps"];
    (Array.isArray(list) ? list : []).forEach((step, i) => {
      const s = asObj(step);
      if (typeof s["uses"] === "string")
        out.push({ uses: s["uses"], with: asObj(s["with"]), at: `jobs.${job}.steps[${i}]` });
    });
  }
  return out;
}

const repoWorkflows: Workflow[] = readdirSync(path.join(ROOT, ".github", "workflows"))
  .filter((f) => /\.ya?ml$/.test(f))
  .sort()
  .map((f) => {
    const file = `.github/workflows/${f}`;
    return { where: file, file, text: readFileSync(path.join(ROOT, file), "utf8") };
  });

/** Every `yaml` block of the documentation is a complete workflow a user can copy. */
const documentedWorkflows: Workflow[] = documents().flatMap((doc) =>
  codeBlocks(readDocument(doc))
    .filter((b) => b.lang === "yaml" || b.lang === "yml")
    .map((b) => ({
      where: `${doc}:${b.line}`,
      file: b.body.match(/^#\s*(\.github\/workflows\/[\w.-]+\.ya?ml)\b/m)?.[1],
      text: b.body,
    })),
);

interface Parsed extends Workflow {
  errors: string[];
  data: Plain;
  /** What `workflow_run: workflows:` matches: `name:`, else the file's path. */
  name: string | undefined;
}

async function parse(w: Workflow): Promise<Parsed> {
  const { errors, data } = await parseWorkflowFile(w.file ?? "workflow.yml", w.text);
  const name = asObj(data)["name"];
  return { ...w, errors, data, name: typeof name === "string" ? name : w.file };
}

let inputs: Map<string, string>;
beforeAll(async () => {
  const action = await parseActionFile("action.yml", readFileSync(path.join(ROOT, "action.yml"), "utf8"));
  inputs = new Map((action.template?.inputs ?? []).map((i) => [i.id, i.default?.toString() ?? ""]));
});

const runsThisAction = (w: Parsed) => steps(w.data).filter((s) => isThisAction(s.uses));
const events = (w: Parsed): Obj => {
  const on = asObj(w.data)["on"];
  if (typeof on === "string") return { [on]: null };
  if (Array.isArray(on)) return Object.fromEntries(on.map((e) => [String(e), null]));
  return asObj(on);
};
/** Measures on pull requests: runs the action in a mode other than `from-report`. */
const measures = (w: Parsed) =>
  "pull_request" in events(w) && runsThisAction(w).some((s) => s.with["comment"] !== "from-report");
const postsFromReport = (w: Parsed) => runsThisAction(w).some((s) => s.with["comment"] === "from-report");

/**
 * Problems in a fork pattern: a `workflow_run` workflow that posts from a report must listen to the
 * measuring workflow by its name, download the artifact that workflow uploads, and read the report
 * where the download puts it.
 */
function forkPatternProblems(set: Parsed[]): string[] {
  const problems: string[] = [];
  for (const poster of set.filter(postsFromReport)) {
    const listened = asObj(events(poster)["workflow_run"])["workflows"];
    const names = Array.isArray(listened) ? listened.map(String) : [];
    if (names.length === 0)
      problems.push(`${poster.where}: posts from a report but has no workflow_run: workflows:`);
    for (const name of names) {
      const measuring = set.filter((w) => w.name === name && measures(w));
      if (measuring.length === 0)
        problems.push(
          `${poster.where}: workflow_run: workflows: [${name}] names no measuring workflow ` +
            `(their names: ${set
              .filter(measures)
              .map((w) => w.name ?? "(none)")
              .join(", ")})`,
        );
      for (const m of measuring) problems.push(...artifactProblems(m, poster));
    }
  }
  // Every measuring workflow shown is one a documented poster can listen to, as written.
  const listenedTo = new Set(
    set.filter(postsFromReport).flatMap((p) => {
      const w = asObj(events(p)["workflow_run"])["workflows"];
      return Array.isArray(w) ? w.map(String) : [];
    }),
  );
  if (listenedTo.size > 0)
    // A matrix whose own final job merges the shards posts its own comment: no poster needed.
    for (const m of set.filter(measures))
      if ((!m.name || !listenedTo.has(m.name)) && !runsThisAction(m).some((st) => st.with["merge"]))
        problems.push(
          `${m.where}: measures, but its name (${m.name ?? "none"}) is not one the fork pattern listens to`,
        );
  return problems;
}

/** The report the measuring workflow writes is uploaded, downloaded by the poster and read at its report-path. */
function artifactProblems(measuring: Parsed, poster: Parsed): string[] {
  const problems: string[] = [];
  const step = runsThisAction(measuring).find((s) => s.with["comment"] !== "from-report")!;
  const dir = String(step.with["working-directory"] ?? inputs.get("working-directory"));
  const reportPath = path.posix.normalize(
    path.posix.join(dir, String(step.with["report-path"] ?? inputs.get("report-path"))),
  );
  const upload = steps(measuring.data).find(
    (s) =>
      s.uses.startsWith("actions/upload-artifact@") &&
      path.posix.normalize(String(s.with["path"])) === reportPath,
  );
  if (!upload) return [`${measuring.where}: no actions/upload-artifact step uploads ${reportPath}`];
  const artifact = String(upload.with["name"]);
  const download = steps(poster.data).find(
    (s) => s.uses.startsWith("actions/download-artifact@") && String(s.with["name"]) === artifact,
  );
  if (!download)
    return [`${poster.where}: downloads no artifact named ${artifact} (${measuring.where} uploads it)`];
  if (download.with["run-id"] === undefined)
    problems.push(`${poster.where}: ${download.at} needs run-id: the artifact is the other run's`);
  // A single-file artifact lands under the download path by its base name.
  const expected = path.posix.join(String(download.with["path"] ?? "."), path.posix.basename(reportPath));
  const from = runsThisAction(poster).find((s) => s.with["comment"] === "from-report")!;
  const actual = path.posix.normalize(
    path.posix.join(
      String(from.with["working-directory"] ?? inputs.get("working-directory")),
      String(from.with["report-path"] ?? inputs.get("report-path")),
    ),
  );
  if (actual !== expected)
    problems.push(
      `${poster.where}: ${from.at} reads the report at ${actual}, the download puts it at ${expected}`,
    );
  return problems;
}

function undeclaredInputs(w: Parsed): string[] {
  return runsThisAction(w).flatMap((s) =>
    Object.keys(s.with)
      .filter((k) => !inputs.has(k))
      .map((k) => `${w.where}: ${s.at} (${s.uses}) passes "${k}", which action.yml does not declare`),
  );
}

for (const [title, set] of [
  ["the repository's workflows", repoWorkflows],
  ["the documented workflows", documentedWorkflows],
] as const) {
  describe(title, () => {
    let parsed: Parsed[];
    beforeAll(async () => {
      parsed = await Promise.all(set.map(parse));
    });

    it("are there to check", () => {
      expect(set.length).toBeGreaterThan(0);
      expect(parsed.some((w) => runsThisAction(w).length > 0)).toBe(true);
    });

    it("have no error in GitHub's parser (parseWorkflow + convertWorkflowTemplate)", () => {
      expect(parsed.flatMap((w) => w.errors.map((e) => `${w.where}: ${e}`))).toEqual([]);
    });

    it("pass only inputs that action.yml declares to this action", () => {
      expect(parsed.flatMap(undeclaredInputs)).toEqual([]);
    });

    it("the fork pattern works as written: the poster names the measuring workflow and finds its report", () => {
      expect(parsed.some(postsFromReport)).toBe(true);
      expect(forkPatternProblems(parsed)).toEqual([]);
    });
  });
}

describe("the checks themselves", () => {
  const measuring = `# .github/workflows/membudget.yml
name: membudget
on: pull_request
jobs:
  measure:
    runs-on: ubuntu-latest
    steps:
      - uses: membudget/membudget@v0
        with:
          comment: never
      - uses: actions/upload-artifact@v4
        with: { name: membudget-report, path: membudget-report.json }
`;
  const poster = `# .github/workflows/membudget-comment.yml
on:
  workflow_run:
    workflows: [membudget]
    types: [completed]
jobs:
  comment:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/download-artifact@v4
        with: { name: membudget-report, run-id: "\${{ github.event.workflow_run.id }}" }
      - uses: membudget/membudget@v0
        with:
          comment: from-report
          report-path: membudget-report.json
`;
  const check = async (m: string, p: string) =>
    forkPatternProblems(
      await Promise.all([
        parse({ where: "measuring", file: undefined, text: m }),
        parse({ where: "poster", file: undefined, text: p }),
      ]),
    );

  it("see an input that action.yml does not declare", async () => {
    const typo = await parse({
      where: "typo",
      file: undefined,
      text: measuring.replace("comment: never", "coment: never"),
    });
    expect(undeclaredInputs(typo)).toEqual([
      'typo: jobs.measure.steps[0] (membudget/membudget@v0) passes "coment", which action.yml does not declare',
    ]);
  });

  it("accept the fork pattern as it should be", async () => {
    expect(await check(measuring, poster)).toEqual([]);
  });

  it("see a measuring workflow without the name the poster listens to", async () => {
    expect((await check(measuring.replace("name: membudget\n", ""), poster)).join("\n")).toMatch(
      /workflows: \[membudget\] names no measuring workflow/,
    );
  });

  it("see a report read where the download does not put it", async () => {
    const elsewhere = poster.replace("run-id:", "path: reports, run-id:");
    expect((await check(measuring, elsewhere)).join("\n")).toMatch(
      /the download puts it at reports\/membudget-report.json/,
    );
  });

  it("see an artifact name that does not match", async () => {
    expect(
      (await check(measuring, poster.replace("name: membudget-report,", "name: report,"))).join("\n"),
    ).toMatch(/downloads no artifact named membudget-report/);
  });
});
