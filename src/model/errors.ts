// Errors meant for the user: each carries a code that the adapters turn into an exit status.

/**
 * What went wrong, as the adapters tell it apart: the CLI maps each code to its exit status
 * (src/cli/exit.ts), the Action to a failed step with the message.
 */
export type ErrorCode =
  /** The budget file cannot be read or is not valid (exit 2). */
  | "budget-file"
  /** A report file cannot be read or is not a membudget report (exit 2). */
  | "report-file"
  /** The command line or an Action input is wrong (exit 2). */
  | "usage"
  /** A file membudget writes could not be written (exit 2): the disk, not the workload. */
  | "write"
  /** git failed (the base worktree, a fetch). */
  | "git"
  /** The user or the runner stopped the measurement (exit 130). */
  | "cancelled";

export abstract class MembudgetError extends Error {
  abstract readonly code: ErrorCode;
}

export interface Problem {
  /** JSON pointer of the offending value ("" for the whole file). */
  pointer: string;
  line: number;
  column: number;
  message: string;
  /** What to write instead. */
  fix?: string;
}

/** The budget file cannot be read or is not valid: exit code 2. */
export class BudgetFileError extends MembudgetError {
  readonly code = "budget-file";
  constructor(
    readonly file: string,
    readonly problems: Problem[],
  ) {
    super(formatProblems(file, problems));
    this.name = "BudgetFileError";
  }
}

/**
 * A report file (`--base`, `--balance`, `check`, `merge`, the Action's `from-report`) cannot be read
 * or is not a membudget report: exit code 2.
 */
export class ReportFileError extends MembudgetError {
  readonly code = "report-file";
  constructor(
    readonly file: string,
    readonly problems: Problem[],
  ) {
    super(formatProblems(file, problems));
    this.name = "ReportFileError";
  }
}

/** The command line or an Action input is wrong: exit code 2. The message names what and the fix. */
export class UsageError extends MembudgetError {
  readonly code = "usage";
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** What an errno means, for the message of a failed write. */
const ERRNO_WORDS: Record<string, string> = {
  ENOSPC: "no space left on the device",
  EDQUOT: "disk quota exceeded",
  EROFS: "read-only file system",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  ENOTDIR: "a part of the path is not a directory",
  EISDIR: "it is a directory",
  ENOENT: "no such directory",
  EIO: "input/output error",
};

/**
 * A file membudget writes (a report, the markdown, a chart, the budget file) could not be written:
 * exit code 2, naming the path and the errno. The measurement is not lost with it: the adapters
 * print the table first.
 */
export class WriteError extends MembudgetError {
  readonly code = "write";
  readonly errno: string;
  constructor(
    readonly path: string,
    cause: unknown,
  ) {
    const errno = (cause as NodeJS.ErrnoException)?.code ?? "";
    const words = ERRNO_WORDS[errno] ?? (cause as Error)?.message ?? String(cause);
    super(`cannot write ${path}: ${errno ? `${errno} (${words})` : words}`);
    this.name = "WriteError";
    this.errno = errno;
  }
}

/** The user (Ctrl-C) or the runner (a cancelled job) stopped the measurement: nothing is reported. */
export class CancelledError extends MembudgetError {
  readonly code = "cancelled";
  constructor() {
    super("cancelled");
    this.name = "CancelledError";
  }
}

/** How many problems of one file an error message lists. */
export const SHOWN_PROBLEMS = 50;

export function formatProblems(file: string, problems: Problem[]): string {
  const head = problems.length === 1 ? `${file}: 1 problem` : `${file}: ${problems.length} problems`;
  // The first few say what is wrong; thousands more (a generated file) would only bury them.
  const lines = problems.slice(0, SHOWN_PROBLEMS).map((p) => {
    const where = `${file}:${p.line}:${p.column}`;
    const ptr = p.pointer === "" ? "(top level)" : p.pointer;
    return `  ${where} at ${ptr}: ${p.message}${p.fix ? `\n    fix: ${p.fix}` : ""}`;
  });
  const more = problems.length - SHOWN_PROBLEMS;
  if (more > 0)
    lines.push(`  and ${more} more problem${more === 1 ? "" : "s"} (the first ${SHOWN_PROBLEMS} are shown)`);
  return [head, ...lines].join("\n");
}
