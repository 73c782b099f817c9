// Errors meant for the user: each carries a code that the adapters turn into an exit status.

/**
 * What went wrong, as the adapters tell it apart: the CLI maps each code to its exit status
 * (src/cli/exit.ts), the Action to a failed step with the message.
 */
export type ErrorCode =
  /** The budget file or a report file cannot be read or is not valid (exit 2). */
  | "budget-file"
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

/** The budget file (or a report file) cannot be read or is not valid: exit code 2. */
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

/** The command line or an Action input is wrong: exit code 2. The message names what and the fix. */
export class UsageError extends MembudgetError {
  readonly code = "usage";
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
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

export function formatProblems(file: string, problems: Problem[]): string {
  const head = problems.length === 1 ? `${file}: 1 problem` : `${file}: ${problems.length} problems`;
  const lines = problems.map((p) => {
    const where = `${file}:${p.line}:${p.column}`;
    const ptr = p.pointer === "" ? "(top level)" : p.pointer;
    return `  ${where} at ${ptr}: ${p.message}${p.fix ? `\n    fix: ${p.fix}` : ""}`;
  });
  return [head, ...lines].join("\n");
}
