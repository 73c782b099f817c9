// Reading /proc: process stats, children links and the page size, with fds opened and closed here.
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync } from "node:fs";

/** Whether the kernel lists a thread's children (/proc/<pid>/task/<tid>/children). */
export const CHILDREN_FILES = existsSync(`/proc/self/task/${process.pid}/children`);

export interface ProcStat {
  state: string;
  ppid: number;
  pgrp: number;
}

const statBuffer = Buffer.alloc(512);

export function readProcStats(): Map<number, ProcStat> {
  const stats = new Map<number, ProcStat>();
  let entries: string[];
  try {
    entries = readdirSync("/proc");
  } catch {
    return stats; // not Linux: no timeline
  }
  for (const entry of entries) {
    const c = entry.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    let fd: number | undefined;
    try {
      fd = openSync(`/proc/${entry}/stat`, "r");
      const n = readSync(fd, statBuffer, 0, statBuffer.length, 0);
      const text = statBuffer.toString("latin1", 0, n);
      // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
      const fields = text.slice(text.lastIndexOf(")") + 2).split(" ", 3);
      stats.set(Number(entry), { state: fields[0] ?? "", ppid: Number(fields[1]), pgrp: Number(fields[2]) });
    } catch {
      // Exited while we looked.
    } finally {
      if (fd !== undefined) closeQuietly(fd);
    }
  }
  return stats;
}

/** A process's command line, arguments joined by spaces and cut to 200 characters ("" when gone). */
export function commandLine(pid: number): string {
  try {
    const text = readFileSync(`/proc/${pid}/cmdline`, "latin1").replace(/\0+$/, "").replace(/\0/g, " ");
    return text.length > 200 ? `${text.slice(0, 199)}…` : text;
  } catch {
    return "";
  }
}

/** Children of every thread of `pid` (a thread's children are listed under that thread only). */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out; // gone
  }
  for (const tid of tids) {
    let fd: number | undefined;
    try {
      fd = openSync(`/proc/${pid}/task/${tid}/children`, "r");
      // "pid pid pid ": a long list spans several reads; a number may straddle two of them.
      let text = "";
      for (let at = 0, n = 1; n > 0; at += n) {
        n = readSync(fd, statBuffer, 0, statBuffer.length, at);
        text += statBuffer.toString("latin1", 0, n);
      }
      for (const word of text.split(" ")) if (word) out.push(Number(word));
    } catch {
      // Thread or process gone.
    } finally {
      if (fd !== undefined) closeQuietly(fd);
    }
  }
  return out;
}

/** The kernel's page size from the auxiliary vector (AT_PAGESZ = 6); statm counts pages. */
export function pageSize(): number {
  try {
    const auxv = readFileSync("/proc/self/auxv");
    for (let i = 0; i + 16 <= auxv.length; i += 16) {
      const type = auxv.readBigUInt64LE(i);
      if (type === 0n) break;
      if (type === 6n) return Number(auxv.readBigUInt64LE(i + 8));
    }
  } catch {
    // Not Linux.
  }
  return 4096;
}

export const PAGE_SIZE = pageSize();

/** Whether a process group still has a member that is not a zombie (init may reap them late). */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  for (const stat of readProcStats().values()) if (stat.pgrp === pgid && stat.state !== "Z") return true;
  return false;
}

export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Nothing to do.
  }
}
