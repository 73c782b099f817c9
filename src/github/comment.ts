// The only code that talks to GitHub: finds, creates, updates and deletes membudget's sticky pull request comment.
import { getOctokit } from "@actions/github";
import { sha256Hex } from "../model/hash.js";
import { COMMENT_LIMIT } from "../model/limits.js";

/**
 * What to do with the sticky comment. upsert: create the comment or update it in place. update:
 * update it if it exists, never create one (for "now passing" without starting a new thread).
 * delete: remove it if it exists.
 */
export type StickyAction = "upsert" | "update" | "delete";

export interface StickyCommentTarget {
  token: string;
  /** REST API root, e.g. https://api.github.com or https://ghe.example.com/api/v3 (GITHUB_API_URL). */
  apiUrl: string;
  owner: string;
  repo: string;
  /** The pull request (or issue) number. */
  issueNumber: number;
  /** Job + comment key; one sticky comment exists per distinct key. */
  key: string;
}

export interface UpsertOptions extends StickyCommentTarget {
  body: string;
  mode: StickyAction;
}

export interface CommentResult {
  action: "created" | "updated" | "deleted" | "unchanged" | "skipped";
  /** The comment's html_url (created, updated or unchanged). */
  url?: string;
  id?: number;
  /** Something the user should see as a warning annotation (permissions, truncation, leftover duplicates). */
  warning?: string;
}

export interface StickyComment {
  id: number;
  url: string;
  body: string;
  author: string;
  /** "Bot" for comments posted with a GITHUB_TOKEN (github-actions[bot]) or an app token. */
  authorType: string;
  createdAt: string;
}

export interface FoundStickyComment {
  /** The newest comment carrying the marker, if any. */
  comment?: StickyComment;
  /** Older comments with the same marker by the same author (left over from concurrent runs or old bugs). */
  duplicates: StickyComment[];
}

type Octokit = ReturnType<typeof getOctokit>;
type Operation = "list" | "create" | "update" | "delete";

/**
 * The hidden marker that identifies the comment for `key`. The key is percent-encoded, so no key can
 * close the HTML comment (`-->`), open markup, or collide with another key's marker.
 */
export function stickyMarker(key: string): string {
  // encodeURIComponent leaves "-" and "!" alone; encoding "!" and every "-" that follows another
  // keeps "--" (and so "-->" or "--!>") out of the comment. Neither is ever emitted encoded by
  // encodeURIComponent, so the mapping stays one-to-one.
  let safe = encodeURIComponent(key.trim().replace(/\s+/g, " "))
    .replace(/!/g, "%21")
    .replace(/-(?=-)/g, "%2D");
  // A matrix key could be long; keep the marker short but still unique per key.
  if (safe.length > 120) {
    safe = `${safe.slice(0, 80)}~${sha256Hex([key]).slice(0, 16)}`;
  }
  return `<!-- membudget:${safe} -->`;
}

/** The head commit of a pull request, as GitHub has it now (to check a report made elsewhere). */
export async function pullRequestHeadSha(target: Omit<StickyCommentTarget, "key">): Promise<string> {
  const { data } = await client({ ...target, key: "" }).rest.pulls.get({
    owner: target.owner,
    repo: target.repo,
    pull_number: target.issueNumber,
  });
  return data.head.sha;
}

/** Finds the sticky comment for a key, going through every page of the issue's comments. */
export async function findStickyComment(target: StickyCommentTarget): Promise<FoundStickyComment> {
  return findWith(client(target), target);
}

/**
 * Creates or updates (mode "upsert"), only updates (mode "update") or deletes (mode "delete")
 * the one sticky comment for `key`. Permission errors (403/404: a fork's read-only token, missing `pull-requests: write`)
 * do not throw: they return action "skipped" with a warning saying what to change.
 */
export async function upsertStickyComment(options: UpsertOptions): Promise<CommentResult> {
  if (!options.token) {
    return {
      action: "skipped",
      warning:
        "membudget did not comment on the pull request: the `github-token` input is empty. " +
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub expression the user writes
        "Leave it at its default (`${{ github.token }}`) or pass a token with `pull-requests: write`.",
    };
  }
  const octokit = client(options);
  const where = { owner: options.owner, repo: options.repo };
  const warnings: string[] = [];

  let found: FoundStickyComment;
  try {
    found = await findWith(octokit, options);
  } catch (error) {
    return skipOrThrow(error, "list", options);
  }

  const removeDuplicates = async (duplicates: StickyComment[]) => {
    for (const duplicate of duplicates) {
      try {
        await octokit.rest.issues.deleteComment({ ...where, comment_id: duplicate.id });
      } catch (error) {
        // A concurrent run may have removed it already; anything else is worth a warning, not a failure.
        if (statusOf(error) === 404) continue;
        warnings.push(
          `membudget could not delete an older duplicate comment (${duplicate.url}): ${describe(error)}`,
        );
      }
    }
  };
  const withWarnings = (result: CommentResult): CommentResult => {
    const all = [result.warning, ...warnings].filter(Boolean);
    return all.length ? { ...result, warning: all.join("\n") } : result;
  };

  if (options.mode === "delete") {
    if (!found.comment) return { action: "unchanged" };
    try {
      await octokit.rest.issues.deleteComment({ ...where, comment_id: found.comment.id });
    } catch (error) {
      if (statusOf(error) !== 404) return skipOrThrow(error, "delete", options);
    }
    await removeDuplicates(found.duplicates);
    return withWarnings({ action: "deleted", id: found.comment.id });
  }

  const body = withMarker(options.body, options.key, warnings);
  const existing = found.comment;
  let result: CommentResult;
  const create = async (): Promise<CommentResult> => {
    try {
      const { data } = await octokit.rest.issues.createComment({
        ...where,
        issue_number: options.issueNumber,
        body,
      });
      return { action: "created", url: data.html_url, id: data.id };
    } catch (error) {
      return skipOrThrow(error, "create", options);
    }
  };
  if (!existing) {
    if (options.mode === "update") return { action: "unchanged" };
    result = await create();
  } else if (sameText(existing.body, body)) {
    result = { action: "unchanged", url: existing.url, id: existing.id };
  } else {
    try {
      const { data } = await octokit.rest.issues.updateComment({ ...where, comment_id: existing.id, body });
      result = { action: "updated", url: data.html_url, id: data.id };
    } catch (error) {
      // Deleted since we listed it (a concurrent run, or a person): post it afresh.
      if (statusOf(error) === 404) result = await create();
      else return withWarnings(skipOrThrow(error, "update", options));
    }
  }
  await removeDuplicates(found.duplicates);
  return withWarnings(result);
}

function client(target: StickyCommentTarget): Octokit {
  // @actions/github reads GITHUB_API_URL once, at import: pass the base URL explicitly so the
  // caller's value (GHES, or a test server) is the one used. Only baseUrl is overridden, so the
  // runner's proxy-aware fetch from @actions/github's defaults is kept.
  return getOctokit(target.token, { baseUrl: target.apiUrl.replace(/\/+$/, "") });
}

async function findWith(octokit: Octokit, target: StickyCommentTarget): Promise<FoundStickyComment> {
  const marker = stickyMarker(target.key);
  const matches: StickyComment[] = [];
  const pages = octokit.paginate.iterator(octokit.rest.issues.listComments, {
    owner: target.owner,
    repo: target.repo,
    issue_number: target.issueNumber,
    per_page: 100,
  });
  for await (const page of pages) {
    for (const c of page.data) {
      // The marker is always the first line we write; requiring it there means a quote of our
      // comment (which starts with "> ") is never mistaken for it.
      if (!c.body?.startsWith(marker)) continue;
      matches.push({
        id: c.id,
        url: c.html_url,
        body: c.body,
        author: c.user?.login ?? "",
        authorType: c.user?.type ?? "",
        createdAt: c.created_at,
      });
    }
  }
  if (matches.length === 0) return { duplicates: [] };
  // GitHub lists comments oldest first; sort anyway so "newest" does not depend on that.
  matches.sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id - b.id);
  // We cannot ask GitHub who a GITHUB_TOKEN is (GET /user answers 403), but its comments are by a
  // Bot: prefer those, so a person's comment that copies the marker is never the one we keep.
  const bots = matches.filter((c) => c.authorType === "Bot");
  const newest = (bots.length ? bots : matches).at(-1)!;
  // Only our own older copies are cleaned up; anybody else's comment is left alone.
  const duplicates = matches.filter((c) => c !== newest && c.author === newest.author);
  return { comment: newest, duplicates };
}

function withMarker(body: string, key: string, warnings: string[]): string {
  const marker = stickyMarker(key);
  let text = body.startsWith(marker) ? body : `${marker}\n${body}`;
  if (text.length > COMMENT_LIMIT) {
    // The renderer is meant to stay under the limit; this is the last guard so GitHub never
    // rejects the comment with a 422.
    const note = "\n\n… (truncated: the full report is in the job summary)";
    const cut = text.lastIndexOf("\n", COMMENT_LIMIT - note.length);
    text = text.slice(0, cut > marker.length ? cut : COMMENT_LIMIT - note.length) + note;
    warnings.push(
      `membudget truncated the pull request comment to GitHub's limit of ${COMMENT_LIMIT} characters.`,
    );
  }
  return text;
}

function sameText(a: string, b: string): boolean {
  // Bodies edited in the web UI come back with CRLF line ends.
  return a.replace(/\r\n/g, "\n") === b.replace(/\r\n/g, "\n");
}

/** The HTTP status GitHub answered, or undefined when no answer came (Octokit reports those as 500). */
function statusOf(error: unknown): number | undefined {
  const e = error as { status?: unknown; response?: unknown } | null;
  return e?.response !== undefined && typeof e.status === "number" ? e.status : undefined;
}

function describe(error: unknown): string {
  const status = statusOf(error);
  const apiMessage = (error as { response?: { data?: { message?: unknown } } } | null)?.response?.data
    ?.message;
  const message =
    typeof apiMessage === "string" ? apiMessage : error instanceof Error ? error.message : String(error);
  return status ? `GitHub answered ${status}: ${message}` : message;
}

const VERBS: Record<Operation, string> = {
  list: "read the comments of",
  create: "create a comment on",
  update: "update its comment on",
  delete: "delete its comment on",
};

/** 403/404 mean the token may not do this: a warning, not a failed job. Anything else throws. */
function skipOrThrow(error: unknown, operation: Operation, target: StickyCommentTarget): CommentResult {
  const status = statusOf(error);
  const where = `${target.owner}/${target.repo}#${target.issueNumber}`;
  if (status === 403 || status === 404) {
    const rateLimited = /rate limit/i.test(describe(error));
    const permission =
      operation === "list" ? "`pull-requests: read`" : "`pull-requests: write` (or `issues: write`)";
    const warning = rateLimited
      ? `membudget could not ${VERBS[operation]} ${where} (${describe(error)}). The report is in the job summary.`
      : `membudget could not ${VERBS[operation]} ${where} (${describe(error)}). ` +
        `The token needs ${permission}: add it to the workflow's \`permissions:\`. ` +
        "On a pull request from a fork GitHub gives the workflow a read-only token whatever it asks for; " +
        "use the two-workflow pattern instead: upload the report as an artifact, and post the comment from a " +
        "workflow triggered by `workflow_run` with `comment: from-report` (docs/action.md, “Pull requests from forks”). " +
        "The job summary still has the full report.";
    return { action: "skipped", warning };
  }
  const reason =
    status === undefined ? `could not reach GitHub at ${target.apiUrl}: ${describe(error)}` : describe(error);
  throw new Error(`membudget could not ${VERBS[operation]} ${where}: ${reason}`, { cause: error });
}
