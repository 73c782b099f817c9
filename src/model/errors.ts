// Errors meant for the user: each carries a code that the adapters turn into an exit status.

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
export class BudgetFileError extends Error {
  readonly code = "budget-file";
  constructor(
    readonly file: string,
    readonly problems: Problem[],
  ) {
    super(formatProblems(file, problems));
    this.name = "BudgetFileError";
  }
}

/** The command line or an Action input is wrong: exit code 2. */
export class UsageError extends Error {
  readonly code = "usage";
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
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
