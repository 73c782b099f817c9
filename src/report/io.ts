// Reads, validates and writes report files (JSON, versioned, with a schema of their own).
import { readFileSync } from "node:fs";
import { ReportFileError } from "../model/errors.js";
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
    throw new ReportFileError(file, [
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
    throw new ReportFileError(file, [
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
    throw new ReportFileError(file, [
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
    throw new ReportFileError(file, [
      {
        pointer: "/tool/name",
        line: 1,
        column: 1,
        message: 'not a membudget report (it has no "tool": { "name": "membudget" })',
        fix: "pass a report written by `membudget run --report FILE` (the Action writes one to `report-path`)",
      },
    ]);
  }
  const odd = oddValue(data);
  if (odd) {
    throw new ReportFileError(file, [
      {
        pointer: odd.pointer,
        line: 1,
        column: 1,
        message: `not a membudget report: ${odd.pointer || "(top level)"} ${odd.message}`,
        fix: "pass a report written by `membudget run --report FILE`",
      },
    ]);
  }
  validator ??= reportValidator();
  if (!validator(data)) {
    throw new ReportFileError(
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

/** Deeper than membudget ever writes: nesting past this is refused before anything recurses on it. */
const MAX_DEPTH = 64;

/**
 * The first value no membudget report holds, wherever it is (in the open objects too): a number
 * JSON.parse made infinite (1e309) and nesting deep enough to overflow a recursive writer. Walked
 * with a stack of its own, so the check itself cannot overflow.
 */
function oddValue(data: unknown): { pointer: string; message: string } | undefined {
  const stack: { value: unknown; depth: number; path: () => string }[] = [
    { value: data, depth: 0, path: () => "" },
  ];
  while (stack.length > 0) {
    const { value, depth, path } = stack.pop()!;
    if (typeof value === "number" && !Number.isFinite(value))
      return { pointer: path(), message: "is a number too large for a figure (beyond 1.8e308)" };
    if (typeof value !== "object" || value === null) continue;
    if (depth >= MAX_DEPTH) {
      const at = path();
      return {
        pointer: at.length > 120 ? `${at.slice(0, 119)}…` : at,
        message: `nests deeper than ${MAX_DEPTH} levels`,
      };
    }
    for (const [key, child] of Object.entries(value)) {
      const escaped = key.replace(/~/g, "~0").replace(/\//g, "~1");
      stack.push({ value: child, depth: depth + 1, path: () => `${path()}/${escaped}` });
    }
  }
  return undefined;
}
