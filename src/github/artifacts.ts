// Reports stored by earlier runs: the default branch's push runs that uploaded membudget's report as
// an artifact, found and read through the REST API with the job token (`actions: read`).
import { getOctokit } from "@actions/github";
import { unzipSync } from "fflate";

export interface StoredReportsTarget {
  token: string;
  /** REST API root (GITHUB_API_URL). */
  apiUrl: string;
  owner: string;
  repo: string;
  /** The workflow's file name (from GITHUB_WORKFLOW_REF): only its runs are searched. Every workflow when absent. */
  workflow?: string;
  /** The artifact's name, as the workflow's upload step gave it. */
  artifact: string;
}

/** One stored report: the file's text and the run that uploaded it. */
export interface StoredReport {
  text: string;
  /** The file's name inside the artifact. */
  file: string;
  runId: number;
  /** The run's page. */
  runUrl: string;
  /** The commit the run measured. */
  sha: string;
}

/** A stored report, or why there is none, in a phrase that completes "membudget measured the base: …". */
export type Lookup = { found: StoredReport } | { missing: string };

type Octokit = ReturnType<typeof getOctokit>;
interface WorkflowRun {
  id: number;
  head_sha: string;
  html_url: string;
  conclusion: string | null;
}

/** The report stored by the newest completed push run of `sha` that uploaded the artifact. */
export async function storedReportOf(target: StoredReportsTarget, sha: string): Promise<Lookup> {
  if (!target.token) return { missing: "the `github-token` input is empty" };
  const octokit = client(target);
  let runs: WorkflowRun[];
  try {
    runs = await listRuns(octokit, target, { head_sha: sha, per_page: 10 });
  } catch (error) {
    return { missing: why(error, "list the workflow runs") };
  }
  if (runs.length === 0) return { missing: `no push run of ${sha.slice(0, 7)} is stored` };
  let last = `no run of ${sha.slice(0, 7)} uploaded an artifact named \`${target.artifact}\``;
  for (const run of runs) {
    const one = await reportOfRun(octokit, target, run);
    if ("found" in one) return one;
    last = one.missing;
  }
  return { missing: last };
}

/**
 * The reports of the newest `count` completed push runs of `branch`, newest first; a run without
 * the artifact (expired, or the job failed before uploading) is left out.
 */
export async function storedReportsOfBranch(
  target: StoredReportsTarget,
  branch: string,
  count: number,
): Promise<{ reports: StoredReport[]; missing?: string }> {
  if (!target.token) return { reports: [], missing: "the `github-token` input is empty" };
  const octokit = client(target);
  let runs: WorkflowRun[];
  try {
    runs = await listRuns(octokit, target, { branch, per_page: Math.min(Math.max(count, 1), 100) });
  } catch (error) {
    return { reports: [], missing: why(error, "list the workflow runs") };
  }
  // Several commits' artifacts at a time: each is a listing and a download of a few kilobytes.
  const found: (StoredReport | undefined)[] = new Array(runs.length);
  let next = 0;
  const worker = async () => {
    while (next < runs.length) {
      const i = next++;
      const one = await reportOfRun(octokit, target, runs[i]!);
      found[i] = "found" in one ? one.found : undefined;
    }
  };
  await Promise.all(Array.from({ length: Math.min(4, runs.length) }, worker));
  return { reports: found.filter((r): r is StoredReport => r !== undefined) };
}

async function listRuns(
  octokit: Octokit,
  target: StoredReportsTarget,
  filter: { head_sha?: string; branch?: string; per_page: number },
): Promise<WorkflowRun[]> {
  const where = {
    owner: target.owner,
    repo: target.repo,
    event: "push",
    status: "completed" as const,
    ...filter,
  };
  const { data } = target.workflow
    ? await octokit.rest.actions.listWorkflowRuns({ ...where, workflow_id: target.workflow })
    : await octokit.rest.actions.listWorkflowRunsForRepo(where);
  // A failed job (a budget broken on main) still uploads its report: only a cancelled or skipped run is passed over.
  return data.workflow_runs
    .filter((r) => r.conclusion !== "cancelled" && r.conclusion !== "skipped")
    .map((r) => ({ id: r.id, head_sha: r.head_sha, html_url: r.html_url, conclusion: r.conclusion }));
}

async function reportOfRun(octokit: Octokit, target: StoredReportsTarget, run: WorkflowRun): Promise<Lookup> {
  const where = { owner: target.owner, repo: target.repo };
  let artifacts: { id: number; name: string; expired: boolean }[];
  try {
    const { data } = await octokit.rest.actions.listWorkflowRunArtifacts({
      ...where,
      run_id: run.id,
      name: target.artifact,
      per_page: 100,
    });
    artifacts = data.artifacts.filter((a) => a.name === target.artifact);
  } catch (error) {
    return { missing: why(error, `list the artifacts of run ${run.id}`) };
  }
  const artifact = artifacts[0];
  if (!artifact) {
    return { missing: `run ${run.html_url} uploaded no artifact named \`${target.artifact}\`` };
  }
  if (artifact.expired) {
    return { missing: `the artifact \`${target.artifact}\` of run ${run.html_url} has expired` };
  }
  let zip: Uint8Array;
  try {
    const { data } = await octokit.rest.actions.downloadArtifact({
      ...where,
      artifact_id: artifact.id,
      archive_format: "zip",
    });
    zip = new Uint8Array(data as ArrayBuffer);
  } catch (error) {
    if (statusOf(error) === 410) {
      return { missing: `the artifact \`${target.artifact}\` of run ${run.html_url} has expired` };
    }
    return { missing: why(error, `download the artifact \`${target.artifact}\` of run ${run.html_url}`) };
  }
  let files: Record<string, Uint8Array>;
  try {
    // Only the JSON files are inflated: an artifact may carry more than the report.
    files = unzipSync(zip, { filter: (f) => f.name.endsWith(".json") });
  } catch (error) {
    return {
      missing: `the artifact \`${target.artifact}\` of run ${run.html_url} is not a zip archive (${(error as Error).message})`,
    };
  }
  const decoder = new TextDecoder();
  // The report is the JSON file that says it is membudget's; the first by name when there are several.
  for (const name of Object.keys(files).sort()) {
    const text = decoder.decode(files[name]);
    if (/"name"\s*:\s*"membudget"/.test(text)) {
      return { found: { text, file: name, runId: run.id, runUrl: run.html_url, sha: run.head_sha } };
    }
  }
  return { missing: `the artifact \`${target.artifact}\` of run ${run.html_url} holds no membudget report` };
}

function client(target: StoredReportsTarget): Octokit {
  // As in comment.ts: the base URL explicitly, since @actions/github reads GITHUB_API_URL at import.
  return getOctokit(target.token, { baseUrl: target.apiUrl.replace(/\/+$/, "") });
}

function statusOf(error: unknown): number | undefined {
  const e = error as { status?: unknown; response?: unknown } | null;
  return e?.response !== undefined && typeof e.status === "number" ? e.status : undefined;
}

/** Why a request failed, for the one note the report gets. */
function why(error: unknown, doing: string): string {
  const status = statusOf(error);
  if (status === 403 || status === 404) {
    return `the token may not ${doing} (GitHub answered ${status}); the job needs \`permissions: actions: read\``;
  }
  const message = error instanceof Error ? error.message : String(error);
  return `membudget could not ${doing}: ${status ? `GitHub answered ${status}: ` : ""}${message}`;
}
