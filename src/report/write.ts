// Writes report files and the other text membudget produces, atomically.
import { mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { WriteError } from "../model/errors.js";
import type { Report } from "../model/report.js";

/** Writes atomically, so a reader never sees half a report. */
export function writeReport(file: string, report: Report): void {
  writeTextFile(file, `${JSON.stringify(report, null, 2)}\n`);
}

/**
 * Writes through a temporary file and a rename. A failure (a full disk, a read-only mount) leaves no
 * `*.tmp` behind and no half file, and is a WriteError naming the path and the errno. A process
 * killed outright (kill -9, the runner's OOM killer) cannot clean up: its `<file>.<pid>.tmp` is
 * removed by the next write of the same file, once no process of that pid is alive.
 */
export function writeTextFile(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(dirname(file), { recursive: true });
    removeStaleTemps(file);
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

/** `<file>.<pid>.tmp` files beside `file` whose writer is gone. */
function removeStaleTemps(file: string): void {
  const prefix = `${basename(file)}.`;
  let names: string[];
  try {
    names = readdirSync(dirname(file));
  } catch {
    return; // The write itself will say what is wrong with the directory.
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith(".tmp")) continue;
    const pid = name.slice(prefix.length, -".tmp".length);
    if (!/^[1-9]\d{0,9}$/.test(pid) || Number(pid) === process.pid || alive(Number(pid))) continue;
    try {
      rmSync(join(dirname(file), name), { force: true });
    } catch {
      // Not ours to remove (another user's directory): harmless, it is only left over.
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: alive, another user's process.
    return (err as NodeJS.ErrnoException).code !== "ESRCH";
  }
}
