// Limits: GitHub's on what membudget posts (checked on github.com, see docs/action.md), and
// membudget's own on what it reads.

/** GitHub rejects issue comment bodies longer than this many characters. */
export const COMMENT_LIMIT = 65_536;

/** GitHub shows at most 1 MiB of a step's job summary; a little is kept for what others append. */
export const SUMMARY_LIMIT = 1024 * 1024 - 1024;

/** The largest budget file membudget reads: real ones are a few kilobytes; past this it is not one. */
export const BUDGET_FILE_LIMIT = 1024 * 1024;
