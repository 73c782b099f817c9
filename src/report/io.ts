// Reads, validates and writes report files (JSON, versioned, with a schema of their own).
import { readFileSync } from "node:fs";
import { BudgetFileError } from "../model/errors.js";
import { REPORT_VERSION, type Report } from "../model/report.js";
import { reportValidator, type Validator } from "./validator.js";

// Writing needs no validator: a command that only writes imports ./write.js and skips the schema.
export { writeReport, writeTextFile } from "./write.js";

let validator: Validator | undefined;

/** Reads a report written by membudget; a wrong or foreign file is a clear error (exit code 2). */
export function readReport(file: string): Report {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new BudgetFileError(file, [
      {
        pointer: "",
        line: 1,
        column: 1,
        message: `cannot read the report (${code ?? (err as Error).message})`,
        fix: "pass a report written by `membudget run --report FILE`",
      },
    ]);
  }
  return parseReport(text, file);
}

/** A report from its text (`file` names it in errors); the same checks as `readReport`. */
export function parseReport(text: string, file: string): Report {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new BudgetFileError(file, [
      {
        pointer: "",
        line: 1,
        column: 1,
        message: `not valid JSON: ${(err as Error).message}`,
        fix: "pass a report written by `membudget run --report FILE`",
      },
    ]);
  }
  const version = (data as { version?: unknown })?.version;
  if (typeof version === "number" && version > REPORT_VERSION) {
    throw new BudgetFileError(file, [
      {
        pointer: "/version",
        line: 1,
        column: 1,
        message: `report version ${version} is newer than this membudget understands (${REPORT_VERSION})`,
        fix: "upgrade membudget",
      },
    ]);
  }
  if ((data as { tool?: { name?: unknown } } | null)?.tool?.name !== "membudget") {
    throw new BudgetFileError(file, [
      {
        pointer: "/tool/name",
        line: 1,
        column: 1,
        message: 'not a membudget report (it has no "tool": { "name": "membudget" })',
        fix: "pass a report written by `membudget run --report FILE` (the Action writes one to `report-path`)",
      },
    ]);
  }
  validator ??= reportValidator();
  if (!validator(data)) {
    throw new BudgetFileError(
      file,
      (validator.errors ?? []).slice(0, 10).map((e) => ({
        pointer: e.instancePath,
        line: 1,
        column: 1,
        message: `not a membudget report: ${e.instancePath || "(top level)"} ${e.message ?? ""}`.trim(),
        fix: "pass a report written by `membudget run --report FILE`",
      })),
    );
  }
  return data as Report;
}
