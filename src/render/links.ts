// The links and commits a report may put into markup. A report can come from an untrusted job (a
// fork's pull_request run, posted by `comment: from-report`), so none of its strings is used as a
// link or a code span unless it has exactly the shape membudget itself writes.

/**
 * `https://host/owner/repo`: a GitHub (or GitHub Enterprise) repository page, nothing after it.
 * Host, owner and repository names use only the characters GitHub allows in them.
 */
const REPOSITORY = /^https:\/\/[A-Za-z0-9.-]+(?::\d{1,5})?\/[A-Za-z0-9-]{1,39}\/[A-Za-z0-9._-]{1,100}$/;

/** A full commit id: 40 hex digits (SHA-1; a backtick or a newline cannot be in it). */
const COMMIT = /^[0-9a-f]{40}$/;

/** The repository's page, when the report records one of the right shape. */
export function repositoryUrl(links: { repository?: string } | undefined): string | undefined {
  const url = links?.repository;
  return url !== undefined && REPOSITORY.test(url) ? url : undefined;
}

/** The commit, when it is a full 40-digit commit id; anything else is not shown. */
export function fullCommit(sha: string | undefined): string | undefined {
  return sha !== undefined && COMMIT.test(sha) ? sha : undefined;
}

/**
 * A run's page (or its job summary) inside the report's own repository:
 * `<repository>/actions/runs/<id>` with an optional `/attempts/<n>` or `#summary-<id>`. Any other
 * link (another host, `javascript:`, a phishing page, markup) is dropped.
 */
export function runUrl(
  links: { repository?: string; run?: string; summary?: string } | undefined,
  which: "run" | "summary",
): string | undefined {
  const repository = repositoryUrl(links);
  const url = links?.[which];
  if (!repository || url === undefined || !url.startsWith(`${repository}/actions/runs/`)) return undefined;
  const rest = url.slice(repository.length);
  return /^\/actions\/runs\/\d{1,20}(?:\/attempts\/\d{1,5})?(?:#summary(?:-\d{1,20})?)?$/.test(rest)
    ? url
    : undefined;
}
