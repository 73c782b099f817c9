// Writes report files and the other text membudget produces, atomically.
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { WriteError } from "../model/errors.js";
import type { Report } from "../model/report.js";

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
