// GitHub's limits on what membudget posts, checked on github.com (see docs/action.md).

/** GitHub rejects issue comment bodies longer than this many characters. */
export const COMMENT_LIMIT = 65_536;

/** GitHub shows at most 1 MiB of a step's job summary; a little is kept for what others append. */
export const SUMMARY_LIMIT = 1024 * 1024 - 1024;
