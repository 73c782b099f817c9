// A fake of the few GitHub REST endpoints membudget uses (issue comments), served over real HTTP on 127.0.0.1.
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { zipSync } from "fflate";

/** The REST shape of an issue comment, as GitHub returns it (taken from a real webhook example). */
export interface IssueCommentObject {
  url: string;
  html_url: string;
  issue_url: string;
  id: number;
  node_id: string;
  user: { login: string; id: number; type: string; [field: string]: unknown };
  created_at: string;
  updated_at: string;
  author_association: string;
  performed_via_github_app: unknown;
  body: string;
  reactions: Record<string, unknown>;
  [field: string]: unknown;
}

export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. /repos/o/r/issues/2/comments. */
  path: string;
  query: Record<string, string>;
  /** Parsed JSON body, or undefined when there was none. */
  body: unknown;
  authorization: string | undefined;
}

export interface FailureRule {
  status: number;
  /** Only requests with these methods fail (default: all). */
  methods?: string[];
  /** Fail this many matching requests, then answer normally again (default: forever). */
  times?: number;
}

export interface FakeGitHub {
  /** Base URL to pass as GITHUB_API_URL / apiUrl, e.g. http://127.0.0.1:41234 */
  readonly url: string;
  /** Every request received, in order. */
  readonly requests: RecordedRequest[];
  /** The comments now on an issue, oldest first (as GitHub lists them). */
  comments(owner: string, repo: string, issue: number): IssueCommentObject[];
  /** Seeds a comment, as if someone had posted it earlier. */
  addComment(c: {
    owner: string;
    repo: string;
    issue: number;
    body: string;
    login?: string;
  }): IssueCommentObject;
  /** Make matching requests fail with a GitHub-style error body; undefined clears the rule. */
  fail(rule: FailureRule | undefined): void;
  /** Answer writes (POST/PATCH/DELETE) with 403, like a fork pull request's read-only token. */
  denyWrites(): void;
  /** Stores a workflow run (and the artifacts it uploaded), as a push to the default branch leaves it. */
  addRun(run: StoredRun): void;
  /** Answer every /actions/ request with 403, like a token without `actions: read`. */
  denyActions(): void;
  /** Makes GET /repos/{o}/{r}/pulls/{n} answer with this head commit (404 until set). */
  setPullRequestHead(owner: string, repo: string, number: number, sha: string): void;
  close(): Promise<void>;
}

/** A workflow run with its artifacts: each artifact's files are served as a zip archive. */
export interface StoredRun {
  owner: string;
  repo: string;
  id: number;
  headSha: string;
  branch?: string;
  event?: string;
  conclusion?: string;
  /** The workflow's file, e.g. ".github/workflows/membudget.yml". */
  workflowPath?: string;
  artifacts: { name: string; files: Record<string, string>; expired?: boolean }[];
}

const fixture = JSON.parse(
  readFileSync(new URL("../fixtures/github/issue_comment.created.json", import.meta.url), "utf8"),
) as { comment: IssueCommentObject };

/** The user a GITHUB_TOKEN writes as (its real login and id on github.com). */
const ACTIONS_BOT = { login: "github-actions[bot]", id: 41898282, type: "Bot" };

const GITHUB_MESSAGES: Record<number, string> = {
  401: "Bad credentials",
  403: "Resource not accessible by integration",
  404: "Not Found",
  422: "Validation Failed",
  500: "Server Error",
};

export async function startFakeGitHub(): Promise<FakeGitHub> {
  const requests: RecordedRequest[] = [];
  const byIssue = new Map<string, IssueCommentObject[]>();
  const repoIds = new Map<string, number>();
  let nextId = 1_000_000_001;
  // A fixed clock that ticks a second per comment keeps timestamps ordered and deterministic.
  let clock = Date.parse("2026-01-01T00:00:00Z");
  let failure: FailureRule | undefined;
  let baseUrl = "";

  const issueKey = (owner: string, repo: string, issue: number) => `${owner}/${repo}#${issue}`.toLowerCase();
  const repoId = (owner: string, repo: string) => {
    const key = `${owner}/${repo}`.toLowerCase();
    if (!repoIds.has(key)) repoIds.set(key, 186853002 + repoIds.size);
    return repoIds.get(key)!;
  };
  const now = () => {
    clock += 1000;
    return new Date(clock).toISOString().replace(/\.\d{3}Z$/, "Z");
  };

  function makeComment(owner: string, repo: string, issue: number, body: string, login?: string) {
    const id = nextId++;
    const api = `${baseUrl}/repos/${owner}/${repo}`;
    const user: IssueCommentObject["user"] = login
      ? { ...fixture.comment.user, login, id: 1000 + id, type: "User" }
      : { ...fixture.comment.user, ...ACTIONS_BOT };
    user.url = `${baseUrl}/users/${encodeURIComponent(user.login)}`;
    user.html_url = `https://github.com/${encodeURIComponent(user.login)}`;
    const stamp = now();
    const comment: IssueCommentObject = {
      ...structuredClone(fixture.comment),
      url: `${api}/issues/comments/${id}`,
      html_url: `https://github.com/${owner}/${repo}/pull/${issue}#issuecomment-${id}`,
      issue_url: `${api}/issues/${issue}`,
      id,
      node_id: Buffer.from(`012:IssueComment${id}`).toString("base64"),
      user,
      created_at: stamp,
      updated_at: stamp,
      author_association: login ? "CONTRIBUTOR" : "NONE",
      body,
      reactions: { ...fixture.comment.reactions, url: `${api}/issues/comments/${id}/reactions` },
    };
    const key = issueKey(owner, repo, issue);
    const list = byIssue.get(key) ?? [];
    list.push(comment);
    byIssue.set(key, list);
    return comment;
  }

  function findById(id: number): { list: IssueCommentObject[]; index: number } | undefined {
    for (const list of byIssue.values()) {
      const index = list.findIndex((c) => c.id === id);
      if (index >= 0) return { list, index };
    }
    return undefined;
  }

  function send(res: ServerResponse, status: number, data?: unknown, headers: Record<string, string> = {}) {
    const text = data === undefined ? "" : JSON.stringify(data);
    res.writeHead(status, {
      ...(data === undefined ? {} : { "content-type": "application/json; charset=utf-8" }),
      "x-github-request-id": `FAKE:${requests.length}`,
      "x-github-api-version-selected": "2022-11-28",
      ...headers,
    });
    res.end(text);
  }

  function sendError(res: ServerResponse, status: number, docs: string) {
    send(res, status, {
      message: GITHUB_MESSAGES[status] ?? "Error",
      documentation_url: `https://docs.github.com/rest/issues/comments#${docs}`,
      status: String(status),
    });
  }

  function listPage(
    res: ServerResponse,
    list: IssueCommentObject[],
    query: Record<string, string>,
    id: number,
    issue: number,
  ) {
    // GitHub: per_page defaults to 30 and is capped at 100; pages start at 1.
    const perPage = Math.min(Math.max(Number(query["per_page"] ?? 30) || 30, 1), 100);
    const page = Math.max(Number(query["page"] ?? 1) || 1, 1);
    const last = Math.max(Math.ceil(list.length / perPage), 1);
    // Like GitHub, the links point at /repositories/{id}/…, so a client must follow them, not rebuild them.
    const link = (p: number) =>
      `${baseUrl}/repositories/${id}/issues/${issue}/comments?per_page=${perPage}&page=${p}`;
    const rels: string[] = [];
    if (page > 1) rels.push(`<${link(page - 1)}>; rel="prev"`);
    if (page < last) rels.push(`<${link(page + 1)}>; rel="next"`, `<${link(last)}>; rel="last"`);
    if (page > 1) rels.push(`<${link(1)}>; rel="first"`);
    send(
      res,
      200,
      list.slice((page - 1) * perPage, page * perPage),
      rels.length ? { link: rels.join(", ") } : {},
    );
  }

  const pullHeads = new Map<string, string>();
  const runs: StoredRun[] = [];
  let nextArtifact = 7_000_001;
  const artifacts = new Map<number, { run: StoredRun; name: string; zip: Uint8Array; expired: boolean }>();
  let actionsDenied = false;

  /** GET …/actions/runs and …/actions/workflows/{file}/runs: the stored runs, newest first, filtered as GitHub does. */
  function listRuns(
    res: ServerResponse,
    owner: string,
    repo: string,
    workflow: string | undefined,
    q: Record<string, string>,
  ) {
    const perPage = Math.min(Math.max(Number(q["per_page"] ?? 30) || 30, 1), 100);
    const chosen = runs
      .filter(
        (r) => r.owner.toLowerCase() === owner.toLowerCase() && r.repo.toLowerCase() === repo.toLowerCase(),
      )
      .filter(
        (r) => !workflow || (r.workflowPath ?? ".github/workflows/membudget.yml").endsWith(`/${workflow}`),
      )
      .filter((r) => !q["head_sha"] || r.headSha === q["head_sha"])
      .filter((r) => !q["branch"] || (r.branch ?? "main") === q["branch"])
      .filter((r) => !q["event"] || (r.event ?? "push") === q["event"])
      .filter(
        (r) => !q["status"] || q["status"] === "completed" || (r.conclusion ?? "success") === q["status"],
      )
      .sort((a, b) => b.id - a.id);
    return send(res, 200, {
      total_count: chosen.length,
      workflow_runs: chosen.slice(0, perPage).map((r) => ({
        id: r.id,
        name: "membudget",
        head_branch: r.branch ?? "main",
        head_sha: r.headSha,
        path: r.workflowPath ?? ".github/workflows/membudget.yml",
        event: r.event ?? "push",
        status: "completed",
        conclusion: r.conclusion ?? "success",
        url: `${baseUrl}/repos/${r.owner}/${r.repo}/actions/runs/${r.id}`,
        html_url: `https://github.com/${r.owner}/${r.repo}/actions/runs/${r.id}`,
        created_at: "2026-01-01T00:00:00Z",
      })),
    });
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const method = req.method ?? "GET";
    const url = new URL(req.url ?? "/", baseUrl);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      return send(res, 400, { message: "Problems parsing JSON" });
    }
    const authorization = req.headers.authorization;
    requests.push({
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      body,
      authorization,
    });

    // The archive's storage host takes no token (GitHub's redirect carries a signed URL).
    const blob = url.pathname.match(/^\/_blob\/(\d+)\.zip$/);
    if (blob && method === "GET") {
      const artifact = artifacts.get(Number(blob[1]));
      if (!artifact) return sendError(res, 404, "");
      res.writeHead(200, {
        "content-type": "application/zip",
        "content-length": String(artifact.zip.length),
      });
      return res.end(Buffer.from(artifact.zip));
    }
    if (!authorization) return sendError(res, 401, "");
    if (actionsDenied && /^\/repos\/[^/]+\/[^/]+\/actions\//.test(url.pathname))
      return sendError(res, 403, "");
    if (failure && (!failure.methods || failure.methods.includes(method))) {
      const status = failure.status;
      if (failure.times !== undefined && --failure.times <= 0) failure = undefined;
      return sendError(res, status, method === "POST" ? "create-an-issue-comment" : "");
    }

    const issueComments = url.pathname.match(/^\/repos\/([^/]+)\/([^/]+)\/issues\/(\d+)\/comments$/);
    const byRepoId = url.pathname.match(/^\/repositories\/(\d+)\/issues\/(\d+)\/comments$/);
    const oneComment = url.pathname.match(/^\/repos\/([^/]+)\/([^/]+)\/issues\/comments\/(\d+)$/);
    const onePull = url.pathname.match(/^\/repos\/([^/]+)\/([^/]+)\/pulls\/(\d+)$/);

    const query = Object.fromEntries(url.searchParams);
    const repoRuns = url.pathname.match(/^\/repos\/([^/]+)\/([^/]+)\/actions\/runs$/);
    const workflowRuns = url.pathname.match(/^\/repos\/([^/]+)\/([^/]+)\/actions\/workflows\/([^/]+)\/runs$/);
    const runArtifacts = url.pathname.match(/^\/repos\/([^/]+)\/([^/]+)\/actions\/runs\/(\d+)\/artifacts$/);
    const artifactZip = url.pathname.match(/^\/repos\/([^/]+)\/([^/]+)\/actions\/artifacts\/(\d+)\/zip$/);
    if (repoRuns && method === "GET") return listRuns(res, repoRuns[1]!, repoRuns[2]!, undefined, query);
    if (workflowRuns && method === "GET") {
      return listRuns(res, workflowRuns[1]!, workflowRuns[2]!, decodeURIComponent(workflowRuns[3]!), query);
    }
    if (runArtifacts && method === "GET") {
      const id = Number(runArtifacts[3]);
      if (!runs.some((r) => r.id === id)) return sendError(res, 404, "");
      const list = [...artifacts.entries()]
        .filter(([, a]) => a.run.id === id && (!query["name"] || a.name === query["name"]))
        .map(([artifactId, a]) => ({
          id: artifactId,
          name: a.name,
          size_in_bytes: a.zip.length,
          expired: a.expired,
          archive_download_url: `${baseUrl}/repos/${a.run.owner}/${a.run.repo}/actions/artifacts/${artifactId}/zip`,
          workflow_run: { id, head_sha: a.run.headSha, head_branch: a.run.branch ?? "main" },
        }));
      return send(res, 200, { total_count: list.length, artifacts: list });
    }
    if (artifactZip && method === "GET") {
      const artifact = artifacts.get(Number(artifactZip[3]));
      if (!artifact) return sendError(res, 404, "");
      // An expired artifact's archive is gone: GitHub answers 410.
      if (artifact.expired) return sendError(res, 410, "");
      return send(res, 302, undefined, { location: `${baseUrl}/_blob/${artifactZip[3]}.zip` });
    }

    if (onePull && method === "GET") {
      const [, owner, repo, number] = onePull as unknown as [string, string, string, string];
      const sha = pullHeads.get(issueKey(owner, repo, Number(number)));
      if (!sha) return sendError(res, 404, "");
      // The fields of the REST pull request object that membudget reads.
      return send(res, 200, {
        number: Number(number),
        state: "open",
        head: { sha, ref: "topic" },
        base: { ref: "main" },
      });
    }

    if (issueComments && method === "GET") {
      const [, owner, repo, issue] = issueComments as unknown as [string, string, string, string];
      const list = byIssue.get(issueKey(owner, repo, Number(issue))) ?? [];
      return listPage(res, list, Object.fromEntries(url.searchParams), repoId(owner, repo), Number(issue));
    }
    if (byRepoId && method === "GET") {
      const [, id, issue] = byRepoId as unknown as [string, string, string];
      const repoKey = [...repoIds].find(([, v]) => v === Number(id))?.[0];
      if (!repoKey) return sendError(res, 404, "");
      const list = byIssue.get(`${repoKey}#${issue}`) ?? [];
      return listPage(res, list, Object.fromEntries(url.searchParams), Number(id), Number(issue));
    }
    if (issueComments && method === "POST") {
      const [, owner, repo, issue] = issueComments as unknown as [string, string, string, string];
      const text = (body as { body?: unknown } | undefined)?.body;
      if (typeof text !== "string") return sendError(res, 422, "create-an-issue-comment");
      repoId(owner, repo);
      return send(res, 201, makeComment(owner, repo, Number(issue), text));
    }
    if (oneComment && (method === "PATCH" || method === "DELETE" || method === "GET")) {
      const found = findById(Number(oneComment[3]));
      if (!found) return sendError(res, 404, "");
      const comment = found.list[found.index]!;
      if (method === "GET") return send(res, 200, comment);
      if (method === "DELETE") {
        found.list.splice(found.index, 1);
        return send(res, 204);
      }
      const text = (body as { body?: unknown } | undefined)?.body;
      if (typeof text !== "string") return sendError(res, 422, "update-an-issue-comment");
      comment.body = text;
      comment.updated_at = now();
      return send(res, 200, comment);
    }
    return sendError(res, 404, "");
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => send(res, 500, { message: String(error) }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: baseUrl,
    requests,
    comments: (owner, repo, issue) => [...(byIssue.get(issueKey(owner, repo, issue)) ?? [])],
    addComment: ({ owner, repo, issue, body, login }) => {
      repoId(owner, repo);
      return makeComment(owner, repo, issue, body, login);
    },
    fail: (rule) => {
      failure = rule ? { ...rule } : undefined;
    },
    addRun: (run) => {
      runs.push(run);
      for (const a of run.artifacts) {
        const files = Object.fromEntries(
          Object.entries(a.files).map(([n, t]) => [n, new TextEncoder().encode(t)]),
        );
        artifacts.set(nextArtifact++, {
          run,
          name: a.name,
          zip: zipSync(files),
          expired: a.expired ?? false,
        });
      }
    },
    denyActions: () => {
      actionsDenied = true;
    },
    setPullRequestHead: (owner, repo, number, sha) => {
      pullHeads.set(issueKey(owner, repo, number), sha);
    },
    denyWrites: () => {
      failure = { status: 403, methods: ["POST", "PATCH", "DELETE"] };
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
