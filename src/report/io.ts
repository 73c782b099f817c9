// Reads, validates and writes report files (JSON, versioned, with a schema of their own).
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { BudgetFileError, WriteError } from "../model/errors.js";
import { REPORT_VERSION, type Report } from "../model/report.js";
import { reportValidator, type Validator } from "./validator.js";

let validator: Validator | undefined;

/** Reads a report written by membudget; a wrong or foreign file is a clear error (exit code 2). */
export function readReport(file: string): Report {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, "utf8"));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const message = code ? `cannot read the report (${code})` : `not valid JSON: ${(err as Error).message}`;
    throw new BudgetFileError(file, [
      {
        pointer: "",
        line: 1,
        column: 1,
        message,
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

/** Writes atomically, so a reader never sees half a report. */
export function writeReport(file: string, report: Report): void {
  writeTextFile(file, `${JSON.stringify(report, null, 2)}\n`);
}

/**
 * Writes through a temporary file and a rename. A failure (a full disk, a read-only mount) leaves no
 * `*.tmp` behind and no half file, and is a WriteError naming the path and the errno.
 */
export function writeTextFile(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(tmp, text);
    renameSync(tmp, file);
  } catch (err) {
    try {
      rmSync(tmp, { force: true });
    } catch {
      // Nothing was created, or the file system will not let go of it either: the error says why.
    }
    throw new WriteError(file, err);
  }
}
