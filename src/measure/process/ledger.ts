// Which processes of a run ran Python or Node.js, and what figure files each left when it ended:
// the check that the workload did not hide a process from the probes (a child started with a
// cleared environment) or change a finished process's figures (deleted or rewritten files).
import { closeSync, openSync, readdirSync, readFileSync, readlinkSync, readSync } from "node:fs";
import { join } from "node:path";
import type { Runtime } from "../../model/metrics.js";

/** A process seen in the run: its executable's name, and the digests of its figure files at its end. */
export interface SeenProcess {
  pid: number;
  /** The executable's base name (/proc/PID/exe), or the kernel's name for it (comm) from rsswrap. */
  name: string;
  /** How it ended, in words ("exit code 0", "signal 9", "stopped by membudget"), when known. */
  ended?: string;
  /**
   * First seen with its parent's very command line: a copy of the parent between fork and exec
   * (a program being started), not a Python program of its own.
   */
  forkCopy?: boolean;
  /** File name → [FNV-1a 32-bit digest, size], taken once the process was gone; unset while it runs. */
  files?: Record<string, [number, number]>;
}

/** What rsswrap says of each process it reaped (rsswrap.c, note_exited). */
export interface WrapperExited {
  pid: number;
  comm: string;
  exitCode?: number;
  signal?: number;
  stopped: boolean;
  files: Record<string, [number, number]>;
}

/** A hole in a run's probe figures, with the process it concerns. */
export interface ProbeGap {
  pid: number;
  name: string;
  kind: "missing" | "changed";
  /** The figure file concerned ("changed"). */
  file?: string;
  ended?: string;
}

const RUNTIME_NAME = /^(python|pypy|node)/;
const FILE_SUFFIXES = ["python", "malloc", "node", "pytest"] as const;
/** Beyond this many processes, the ledger stops growing (a fork bomb) and says so. */
const MAX_SEEN = 65_536;

/** FNV-1a, 32 bits: the digest rsswrap.c's digest_file computes. */
export function fnv1a(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193) >>> 0;
  return h >>> 0;
}

function readWhole(path: string): Buffer | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    const chunks: Buffer[] = [];
    for (;;) {
      const chunk = Buffer.allocUnsafe(65_536);
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n <= 0) break;
      chunks.push(chunk.subarray(0, n));
    }
    return Buffer.concat(chunks);
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** The digests of the figure files `pid` left in `dir` (its worker threads' too for Node.js). */
export function digestFiles(dir: string, pid: number, node: boolean): Record<string, [number, number]> {
  const names: string[] = FILE_SUFFIXES.map((s) => `${pid}.${s}.json`);
  if (node) {
    try {
      for (const n of readdirSync(dir))
        if (n.startsWith(`${pid}-`) && n.endsWith(".node.json")) names.push(n);
    } catch {
      // The directory is gone: nothing to digest.
    }
  }
  const files: Record<string, [number, number]> = {};
  for (const name of names) {
    const bytes = readWhole(join(dir, name));
    if (bytes) files[name] = [fnv1a(bytes), bytes.length];
  }
  return files;
}

/**
 * Fed by the tree sampler: every process it tracks is looked at on each discovery round (an exec
 * replaces the image under the same pid, so the name is read again), and digested once gone.
 */
export class ProcessLedger {
  readonly seen = new Map<number, SeenProcess>();
  overflow = false;

  constructor(private readonly probeDir: string) {}

  look(pid: number): void {
    let name: string;
    try {
      name = readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, "");
      name = name.slice(name.lastIndexOf("/") + 1);
    } catch {
      return; // gone, a zombie, or not ours to read
    }
    const known = this.seen.get(pid);
    // The image it runs now wins: a child Python forks to start a program (subprocess, platform's
    // `file -b sys.executable`) is still python3 until its exec, and the program it becomes
    // writes no Python figures. (A pid seen again after it ended is a new process with a reused pid.)
    if (known && known.files === undefined) {
      known.name = name;
      // Seen again after its exec, it is what it became.
      if (known.forkCopy && !isForkCopy(pid)) delete known.forkCopy;
      return;
    }
    if (this.seen.size >= MAX_SEEN) {
      this.overflow = true;
      return;
    }
    const copy = RUNTIME_NAME.test(name) && isForkCopy(pid);
    this.seen.set(pid, { pid, name, ...(copy ? { forkCopy: true } : {}) });
  }

  gone(pid: number): void {
    const known = this.seen.get(pid);
    if (!known || known.files !== undefined) return;
    known.files = digestFiles(this.probeDir, pid, known.name.startsWith("node"));
  }

  /** rsswrap's account of the processes it reaped: exact at their end, so it wins. */
  addWrapper(exited: readonly WrapperExited[]): void {
    for (const e of exited) {
      const known = this.seen.get(e.pid);
      const ended = e.stopped
        ? "stopped by membudget"
        : e.signal !== undefined
          ? `killed by signal ${e.signal}`
          : `exit code ${e.exitCode}`;
      // The kernel's name at its end says what it ran last (a forked child that exec'd is no
      // longer python); the ledger's name is the longer one for the same program.
      const name = known && RUNTIME_NAME.test(e.comm) && RUNTIME_NAME.test(known.name) ? known.name : e.comm;
      this.seen.set(e.pid, { pid: e.pid, name, ended, files: e.files });
    }
  }

  /**
   * The holes in the figures of a `runtime` run: a process of that runtime (for native programs,
   * any Python or Node.js one) without its figure file, and a file that is not what it was when
   * its process ended (deleted or rewritten afterwards).
   */
  gaps(runtime: Runtime): ProbeGap[] {
    const gaps: ProbeGap[] = [];
    const own = runtime === "node" ? /^node/ : runtime === "python" ? /^(python|pypy)/ : RUNTIME_NAME;
    for (const p of [...this.seen.values()].sort((a, b) => a.pid - b.pid)) {
      const files = p.files ?? digestFiles(this.probeDir, p.pid, p.name.startsWith("node"));
      const needed =
        runtime === "native"
          ? `${p.pid}.malloc.json`
          : `${p.pid}.${runtime === "node" ? "node" : "python"}.json`;
      const where = { pid: p.pid, name: p.name, ...(p.ended ? { ended: p.ended } : {}) };
      if (
        own.test(p.name) &&
        files[needed] === undefined &&
        !p.forkCopy &&
        !execdElsewhere(this.probeDir, p.pid)
      )
        gaps.push({ ...where, kind: "missing" });
      if (p.files === undefined) continue;
      const now = digestFiles(this.probeDir, p.pid, p.name.startsWith("node"));
      for (const file of new Set([...Object.keys(p.files), ...Object.keys(now)])) {
        const was = p.files[file];
        const is = now[file];
        if (was?.[0] !== is?.[0] || was?.[1] !== is?.[1]) gaps.push({ ...where, kind: "changed", file });
      }
    }
    return gaps;
  }
}

/** Whether `pid` runs its parent's command line: a child between fork and exec. */
function isForkCopy(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    const own = readFileSync(`/proc/${pid}/cmdline`);
    return own.length > 0 && own.equals(readFileSync(`/proc/${ppid}/cmdline`));
  } catch {
    return false;
  }
}

/**
 * Whether the malloc probe's file of `pid` says the process ended as another program than a
 * runtime: a child forked by Python or Node.js to start a program, seen by the sampler only
 * before its exec. (Without the malloc probe, LD_PRELOAD removed, there is no such file and the
 * process stays a gap.)
 */
function execdElsewhere(dir: string, pid: number): boolean {
  const bytes = readWhole(join(dir, `${pid}.malloc.json`));
  if (!bytes) return false;
  try {
    const argv0 = (JSON.parse(bytes.toString("utf8")) as { argv?: unknown }).argv;
    const first = Array.isArray(argv0) && typeof argv0[0] === "string" ? argv0[0] : undefined;
    return first !== undefined && !RUNTIME_NAME.test(first.slice(first.lastIndexOf("/") + 1));
  } catch {
    return false;
  }
}

/** One sentence for the report: which processes, what happened, at most a few named. */
export function gapReason(gaps: readonly ProbeGap[], overflow: boolean): string {
  const shown = gaps.slice(0, 3).map((g) => {
    const who = `process ${g.pid} (${g.name}${g.ended ? `, ${g.ended}` : ""})`;
    if (g.kind === "changed")
      return `the figure file ${g.file} of ${who} was deleted or rewritten after the process ended`;
    // A process still running when the command ended (or at a timeout) is stopped before it
    // writes its figures: say so, not the guesses that fit a process that ended on its own.
    return g.ended === "stopped by membudget"
      ? `${who} left no figures (it was still running, and stopped before it could write them)`
      : `${who} left no figures (started without the probe: a cleared environment, PYTHONPATH or LD_PRELOAD removed; or killed before it could write them)`;
  });
  const more = gaps.length > 3 ? `; and ${gaps.length - 3} more` : "";
  const bomb = overflow ? `; over ${MAX_SEEN} processes: the rest were not checked` : "";
  return `incomplete: ${shown.join("; ")}${more}${bomb}`;
}
