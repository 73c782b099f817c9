// Runs one command under measurement: spawns it through rsswrap (exact per-process peak RSS),
// enforces the timeout on the whole process tree, keeps bounded output tails and samples the
// tree's RSS over time for the timeline.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import {
  closeSync,
  existsSync,
  constants as fsConstants,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmSync,
} from "node:fs";
import { Socket } from "node:net";
import { constants, tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { nativeTool } from "./native.js";
import { downsample } from "./timeline.js";

export interface RunSpec {
  /** Run through `/bin/sh -c`. */
  command: string;
  cwd: string;
  /** The complete environment of the workload (nothing is inherited implicitly). */
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** Time between SIGTERM and SIGKILL on timeout (default 5000). */
  graceMs?: number;
  /** Bytes kept of each stream's end (default 64 KiB); byte counts are always total. */
  outputLimit?: number;
  /** Timeline sampling period (default 20 ms). */
  sampleIntervalMs?: number;
  /** Stops the workload like a timeout does (SIGTERM, grace, SIGKILL); error says "cancelled". */
  signal?: AbortSignal;
  /** false runs the command without rsswrap (peakRss then comes from sampling); for tests. */
  useRsswrap?: boolean;
}

export interface TimelinePoint {
  /** Seconds since the start of the run. */
  t: number;
  /** Bytes resident, summed over the process tree. */
  rss: number;
}

export interface RunOutcome {
  exitCode: number | null;
  signal: string | null;
  timedOut: boolean;
  /** Seconds from start to the command's exit (rsswrap's monotonic clock when available). */
  wallTime: number;
  /** Bytes: the largest single process's peak RSS (ru_maxrss from rsswrap; sampled otherwise). */
  peakRss?: number;
  /** Bytes: the largest sum of VmRSS over the tree seen by sampling (counts shared pages twice). */
  peakRssTree?: number;
  /** At most TIMELINE_POINTS points, evenly spread in time, each its bucket's highest sample. */
  timeline: TimelinePoint[];
  stdoutTail: string;
  stderrTail: string;
  stdoutBytes: number;
  stderrBytes: number;
  notes: string[];
  /** Why the run cannot be trusted: non-zero exit, signal, timeout, failure to start. */
  error?: string;
}

export interface RunHooks {
  /** Called with each piece of output as it arrives; the chunk is the hook's to keep. */
  onOutput?(stream: "stdout" | "stderr", chunk: Buffer): void;
}

const TIMELINE_POINTS = 200;
/** How long the pipes may stay open after the command is gone (a grandchild may hold them). */
const DRAIN_MS = 250;
/** After SIGKILL, how long to wait for the process to be reaped before giving up on it. */
const GIVE_UP_MS = 1000;
const KILL_REPEAT_MS = 250;
const GROUP_POLL_MS = 50;

/** Never throws: every failure, including failure to start, is a RunOutcome with `error`. */
export function runOnce(spec: RunSpec, hooks: RunHooks = {}): Promise<RunOutcome> {
  return new Execution(spec, hooks).run();
}

interface WrapperResult {
  exitCode: number | null;
  signal: number | null;
  maxRss: number;
  wallTime: number;
}

/** State of one running command; lives from spawn until the outcome is settled. */
class Execution {
  private readonly graceMs: number;
  private readonly notes: string[] = [];
  private readonly stdout: OutputTail;
  private readonly stderr: OutputTail;
  private readonly wrapperPath: string | undefined;
  private workDir: string | undefined;
  private child: ChildProcess | undefined;
  private streams: Readable[] = [];
  private sampler: TreeSampler | undefined;
  private started = 0;
  private exitedAt: number | undefined;
  private exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private stopReason: "timeout" | "cancelled" | undefined;
  private sentKill = false;
  private gaveUp = false;
  private startError: string | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private settle: ((outcome: RunOutcome) => void) | undefined;
  private settled = false;
  private hookFailed = false;
  private onAbort = (): void => this.stop("cancelled");

  constructor(
    private readonly spec: RunSpec,
    private readonly hooks: RunHooks,
  ) {
    this.graceMs = spec.graceMs ?? 5000;
    const limit = spec.outputLimit ?? 64 * 1024;
    this.stdout = new OutputTail(limit);
    this.stderr = new OutputTail(limit);
    const interval = spec.sampleIntervalMs ?? 20;
    const tool = spec.useRsswrap === false ? { unavailable: "rsswrap disabled" } : wrapper();
    if (tool.path) {
      this.wrapperPath = tool.path;
    } else {
      this.notes.push(
        `peakRss is sampled from /proc every ${interval} ms, so spikes shorter than that can be missed ` +
          `(${tool.unavailable ?? "rsswrap unavailable"})`,
      );
    }
  }

  run(): Promise<RunOutcome> {
    return new Promise((resolve) => {
      this.settle = resolve;
      this.start();
    });
  }

  private start(): void {
    const { spec } = this;
    let file = "/bin/sh";
    let args = ["-c", spec.command];
    let env = spec.env;
    this.workDir = mkdtempSync(join(tmpdir(), "membudget-run-"));
    if (this.wrapperPath) {
      file = this.wrapperPath;
      args = [join(this.workDir, "rsswrap.json"), "--", "/bin/sh", ...args];
      // The wrapper is our instrument, not the workload: it hands LD_PRELOAD to the workload
      // only, so that the malloc probe does not count the wrapper's own allocations.
      if (env["LD_PRELOAD"] !== undefined) {
        const { LD_PRELOAD, ...rest } = env;
        env = { ...rest, MEMBUDGET_PRELOAD: LD_PRELOAD };
      }
    }
    const fifos = openFifos();
    this.started = performance.now();
    let child: ChildProcess;
    try {
      child = spawn(file, args, {
        cwd: spec.cwd,
        env,
        // Own process group (and session): the timeout kills the group, never us.
        detached: true,
        stdio: fifos ? ["ignore", fifos.stdout.write, fifos.stderr.write] : ["ignore", "pipe", "pipe"],
      });
    } catch (error) {
      fifos?.close();
      this.failToStart(error);
      return;
    }
    this.child = child;
    if (fifos) {
      // The child holds its own copies of the write ends; ours would keep EOF from ever coming.
      closeQuietly(fifos.stdout.write);
      closeQuietly(fifos.stderr.write);
      this.streams = [
        this.readFifo(fifos.stdout.read, "stdout", this.stdout),
        this.readFifo(fifos.stderr.read, "stderr", this.stderr),
      ];
    } else {
      this.streams = [
        this.readPipe(child.stdout!, "stdout", this.stdout),
        this.readPipe(child.stderr!, "stderr", this.stderr),
      ];
    }
    child.once("error", (error) => {
      // Only spawn failures matter here; a failed kill() also lands here and is harmless.
      if (child.pid === undefined) this.failToStart(error);
    });
    if (child.pid === undefined) return; // the 'error' event follows
    child.once("exit", (code, signal) => this.onExit(code, signal));

    this.sampler = new TreeSampler(child.pid, !this.wrapperPath, spec.sampleIntervalMs ?? 20, this.started);
    this.sampler.start();
    this.later(spec.timeoutMs, () => this.stop("timeout"));
    if (spec.signal) {
      if (spec.signal.aborted) this.stop("cancelled");
      else spec.signal.addEventListener("abort", this.onAbort, { once: true });
    }
  }

  private failToStart(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.startError = existsSync(this.spec.cwd)
      ? `could not start: ${message}`
      : `could not start: the working directory ${this.spec.cwd} does not exist`;
    this.finish();
  }

  /**
   * Reads a FIFO into one reused buffer: a 'data' event allocates a fresh Buffer per chunk, and
   * V8 collects those only after ~64 MiB of them, so 1 GiB of output grew us by ~70 MiB.
   */
  private readFifo(fd: number, name: "stdout" | "stderr", tail: OutputTail): Readable {
    const socket = new Socket({
      fd,
      readable: true,
      writable: false,
      onread: {
        buffer: Buffer.allocUnsafe(64 * 1024),
        callback: (n: number, buffer: Uint8Array): boolean => {
          this.output(name, tail, Buffer.from(buffer.buffer, buffer.byteOffset, n), true);
          return true;
        },
      },
    });
    // Destroying a pipe that a grandchild still holds is expected; its errors carry no news.
    socket.on("error", () => {});
    return socket;
  }

  private readPipe(stream: Readable, name: "stdout" | "stderr", tail: OutputTail): Readable {
    stream.on("data", (chunk: Buffer) => this.output(name, tail, chunk, false));
    stream.on("error", () => {});
    return stream;
  }

  private output(name: "stdout" | "stderr", tail: OutputTail, chunk: Buffer, reused: boolean): void {
    tail.push(chunk);
    if (!this.hooks.onOutput || this.hookFailed) return;
    try {
      this.hooks.onOutput(name, reused ? Buffer.from(chunk) : chunk);
    } catch (error) {
      this.hookFailed = true;
      this.notes.push(`output hook failed and was dropped: ${(error as Error).message}`);
    }
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.exitedAt = performance.now();
    this.exit = { code, signal };
    if (this.settled) return;
    if (this.wrapperPath) {
      // rsswrap exits only once every descendant is reaped.
      this.drainThenFinish();
      return;
    }
    // Without rsswrap the shell's exit does not end the workload: wait for its group to empty
    // (the timeout still applies), as rsswrap waits for every descendant.
    const poll = (): void => {
      if (this.settled) return;
      if (groupAlive(this.child!.pid!)) this.later(GROUP_POLL_MS, poll);
      else this.drainThenFinish();
    };
    poll();
  }

  private drainThenFinish(): void {
    const open = this.streams.filter((s) => !s.closed);
    if (open.length === 0) {
      this.finish();
      return;
    }
    let left = open.length;
    for (const stream of open) {
      stream.once("close", () => {
        left -= 1;
        if (left === 0) this.finish();
      });
    }
    this.later(DRAIN_MS, () => {
      this.notes.push("the output pipes were still held open by a leftover process; stopped reading them");
      this.finish();
    });
  }

  /** Timeout or cancellation: SIGTERM to the group, SIGKILL to the whole tree after the grace. */
  private stop(reason: "timeout" | "cancelled"): void {
    if (this.stopReason || this.settled || !this.child?.pid) return;
    this.stopReason = reason;
    const pid = this.child.pid;
    // With rsswrap the group holds only rsswrap, which forwards SIGTERM to the workload's group.
    signalGroup(pid, "SIGTERM");
    this.later(this.graceMs, () => {
      this.sentKill = true;
      const killRound = (): void => {
        this.killTree();
        this.later(KILL_REPEAT_MS, killRound);
      };
      killRound();
      this.later(GIVE_UP_MS, () => {
        // rsswrap (or a process in uninterruptible sleep) did not go away: settle regardless.
        signalGroup(pid, "SIGKILL");
        this.gaveUp = true;
        this.notes.push("the workload did not exit after SIGKILL; stopped waiting for it");
        this.finish();
      });
    });
  }

  private killTree(): void {
    const pid = this.child!.pid!;
    const { pids, pgids } = this.sampler!.currentTree();
    // rsswrap must outlive the workload to reap it and write the peak: kill around it.
    const spare = this.wrapperPath && this.exit === undefined ? pid : undefined;
    if (spare === undefined) signalGroup(pid, "SIGKILL");
    for (const pgid of pgids) if (pgid !== spare) signalGroup(pgid, "SIGKILL");
    for (const p of pids) if (p !== spare) signalPid(p, "SIGKILL");
  }

  private later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  private finish(): void {
    if (this.settled) return;
    this.settled = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.spec.signal?.removeEventListener("abort", this.onAbort);
    this.sampler?.stop();
    for (const stream of this.streams) stream.destroy();
    this.settle!(this.outcome());
  }

  private outcome(): RunOutcome {
    const result = this.readWrapperResult();
    const sampled = this.sampler?.peak ?? 0;
    let exitCode: number | null = null;
    let signal: string | null = null;
    if (result) {
      exitCode = result.exitCode;
      signal = result.signal === null ? null : signalName(result.signal);
    } else if (this.exit) {
      exitCode = this.exit.code;
      signal = this.exit.signal;
    }
    const end = this.exitedAt ?? performance.now();
    const outcome: RunOutcome = {
      exitCode,
      signal,
      timedOut: this.stopReason === "timeout",
      wallTime: result && result.wallTime > 0 ? result.wallTime : (end - this.started) / 1000,
      timeline: this.sampler ? downsample(this.sampler.points, TIMELINE_POINTS) : [],
      stdoutTail: this.stdout.text(),
      stderrTail: this.stderr.text(),
      stdoutBytes: this.stdout.total,
      stderrBytes: this.stderr.total,
      notes: this.notes,
    };
    if (result && result.maxRss > 0) outcome.peakRss = result.maxRss;
    else if (sampled > 0) outcome.peakRss = sampled;
    if (this.wrapperPath && !result && this.child?.pid !== undefined && sampled > 0) {
      this.notes.push("rsswrap wrote no result; peakRss is the sampled tree, which can miss short spikes");
    }
    if (sampled > 0) outcome.peakRssTree = sampled;
    const error = this.describeError(exitCode, signal);
    if (error) outcome.error = error;
    return outcome;
  }

  private describeError(exitCode: number | null, signal: string | null): string | undefined {
    if (this.startError) return this.startError;
    if (this.stopReason) {
      const what =
        this.stopReason === "timeout" ? `timed out after ${formatMs(this.spec.timeoutMs)}` : "cancelled";
      const how = this.sentKill
        ? `sent SIGTERM, then SIGKILL after ${formatMs(this.graceMs)} grace`
        : `stopped by SIGTERM within the ${formatMs(this.graceMs)} grace`;
      return `${what}; ${how}${this.gaveUp ? " (it still had not exited)" : ""}`;
    }
    // A memory tool's most likely SIGKILL is the kernel's OOM killer: say so.
    const oom = " (out of memory? the kernel's OOM killer sends SIGKILL)";
    if (signal) return `killed by ${signal}${signal === "SIGKILL" ? oom : ""}`;
    if (exitCode === 127) return "exited with code 127 (command not found)";
    if (exitCode === 126) return "exited with code 126 (command not executable)";
    if (exitCode !== null && exitCode > 128 && exitCode < 128 + 65) {
      // The shell reports a command killed by signal N as 128 + N.
      const name = signalName(exitCode - 128);
      return `exited with code ${exitCode} (a process was killed by ${name})${name === "SIGKILL" ? oom : ""}`;
    }
    if (exitCode !== null && exitCode !== 0) return `exited with code ${exitCode}`;
    if (exitCode === null) return "exited without a status";
    return undefined;
  }

  private readWrapperResult(): WrapperResult | undefined {
    if (!this.workDir) return undefined;
    try {
      if (!this.wrapperPath) return undefined;
      return JSON.parse(readFileSync(join(this.workDir, "rsswrap.json"), "utf8")) as WrapperResult;
    } catch {
      return undefined;
    } finally {
      rmSync(this.workDir, { recursive: true, force: true });
    }
  }
}

/** Keeps the last `limit` bytes of a stream in a ring buffer and counts them all. */
export class OutputTail {
  private ring: Buffer | undefined;
  total = 0;

  constructor(private readonly limit: number) {}

  push(chunk: Uint8Array): void {
    if (this.limit > 0 && chunk.length > 0) {
      this.ring ??= Buffer.alloc(this.limit);
      // Only the part of the chunk that can survive is copied.
      const keep = chunk.length > this.limit ? chunk.subarray(chunk.length - this.limit) : chunk;
      let at = (this.total + chunk.length - keep.length) % this.limit;
      let from = 0;
      while (from < keep.length) {
        const n = Math.min(keep.length - from, this.limit - at);
        this.ring.set(keep.subarray(from, from + n), at);
        from += n;
        at = (at + n) % this.limit;
      }
    }
    this.total += chunk.length;
  }

  text(): string {
    if (!this.ring) return "";
    const held = Math.min(this.total, this.limit);
    const at = this.total % this.limit;
    const bytes =
      held < this.limit
        ? this.ring.subarray(0, held)
        : Buffer.concat([this.ring.subarray(at), this.ring.subarray(0, at)]);
    let start = 0;
    // When bytes were dropped, do not start in the middle of a UTF-8 sequence.
    if (this.total > held) {
      while (start < 3 && start < bytes.length && (bytes[start]! & 0xc0) === 0x80) start++;
    }
    return bytes.subarray(start).toString("utf8");
  }
}

/**
 * Samples the summed RSS of a process tree. statm is read through fds kept open (6 µs a read, and
 * an fd never follows a reused pid); the tree is rediscovered only every DISCOVER_MS or so (every
 * tick in the first EARLY_MS, for short workloads), from children links under rsswrap and from
 * /proc/<pid>/stat ppid links otherwise.
 */
class TreeSampler {
  peak = 0;
  points: TimelinePoint[] = [];
  private readonly fds = new Map<number, number>();
  /** Process groups the workload lives in: their members count even when orphaned. */
  private readonly groups = new Set<number>();
  private readonly buffer = Buffer.alloc(256);
  private timer: NodeJS.Timeout | undefined;
  private nextDiscovery = 0;
  private discoveryEvery = DISCOVER_MS;

  constructor(
    private readonly root: number,
    /** false when the root is rsswrap: our own instrument's memory is not the workload's. */
    private readonly includeRoot: boolean,
    private readonly intervalMs: number,
    private readonly t0: number,
  ) {}

  start(): void {
    this.tick();
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const fd of this.fds.values()) closeQuietly(fd);
    this.fds.clear();
  }

  /** The tree as of now, for killing it: pids and their process groups. */
  currentTree(): { pids: number[]; pgids: number[] } {
    const tree = this.scan();
    return { pids: [...tree.keys()], pgids: [...new Set(tree.values())] };
  }

  private tick(): void {
    const now = performance.now();
    // Discover on every tick at first (short workloads), then at the adaptive period.
    if (now >= this.nextDiscovery || now - this.t0 < EARLY_MS) {
      const begun = performance.now();
      for (const pid of this.discover()) this.track(pid);
      // Keep discovery to about 2 % of a core however many processes the machine runs.
      const cost = performance.now() - begun;
      this.discoveryEvery = Math.max(DISCOVER_MS, cost * 50);
      this.nextDiscovery = now + this.discoveryEvery;
    }
    let sum = 0;
    for (const [pid, fd] of this.fds) {
      const pages = this.readResidentPages(fd);
      if (pages === undefined) {
        closeQuietly(fd);
        this.fds.delete(pid);
      } else {
        sum += pages * PAGE_SIZE;
      }
    }
    if (sum > this.peak) this.peak = sum;
    this.points.push({ t: (now - this.t0) / 1000, rss: sum });
    // Bound memory on very long runs: halve the resolution, keeping each pair's higher point.
    if (this.points.length >= 4096) this.points = halve(this.points);
  }

  private track(pid: number): void {
    if (this.fds.has(pid)) return;
    try {
      this.fds.set(pid, openSync(`/proc/${pid}/statm`, "r"));
    } catch {
      // Gone already.
    }
  }

  private readResidentPages(fd: number): number | undefined {
    try {
      const n = readSync(fd, this.buffer, 0, this.buffer.length, 0);
      if (n === 0) return undefined;
      const text = this.buffer.toString("latin1", 0, n);
      const first = text.indexOf(" ");
      const second = text.indexOf(" ", first + 1);
      const pages = Number(text.slice(first + 1, second));
      return Number.isFinite(pages) ? pages : undefined;
    } catch {
      return undefined; // ESRCH: the process was reaped
    }
  }

  /**
   * Under rsswrap every descendant stays below the root (it is their subreaper), so following
   * /proc/<pid>/task/<tid>/children from the root finds them all, at a few reads per process
   * instead of a scan of every process on the machine (1.5 ms for 80 processes, 6 % of a core
   * when done every 20–100 ms).
   */
  private discover(): number[] {
    if (this.includeRoot || !CHILDREN_FILES) return [...this.scan().keys()];
    const found: number[] = [];
    const queue = [this.root];
    while (queue.length > 0) {
      for (const child of childrenOf(queue.pop()!)) {
        found.push(child);
        queue.push(child);
      }
    }
    return found;
  }

  /** Descendants of the root (and the root when included) plus members of the workload's groups → pgid. */
  private scan(): Map<number, number> {
    const stats = readProcStats();
    const children = new Map<number, number[]>();
    for (const [pid, stat] of stats) {
      const list = children.get(stat.ppid);
      if (list) list.push(pid);
      else children.set(stat.ppid, [pid]);
    }
    const tree = new Map<number, number>();
    const queue = [this.root];
    while (queue.length > 0) {
      const pid = queue.pop()!;
      for (const child of children.get(pid) ?? []) {
        const stat = stats.get(child)!;
        if (tree.has(child)) continue;
        tree.set(child, stat.pgrp);
        queue.push(child);
      }
    }
    const rootStat = stats.get(this.root);
    if (this.includeRoot && rootStat) tree.set(this.root, rootStat.pgrp);
    for (const pgid of tree.values()) {
      if (pgid !== this.root || this.includeRoot) this.groups.add(pgid);
    }
    if (this.includeRoot) this.groups.add(this.root);
    // Orphans that were reparented away from the tree (no subreaper) are still in its groups.
    for (const [pid, stat] of stats) {
      if (pid !== this.root && !tree.has(pid) && this.groups.has(stat.pgrp)) tree.set(pid, stat.pgrp);
    }
    return tree;
  }
}

const DISCOVER_MS = 100;
const CHILDREN_FILES = existsSync(`/proc/self/task/${process.pid}/children`);
const EARLY_MS = 200;
const PAGE_SIZE = pageSize();

interface ProcStat {
  state: string;
  ppid: number;
  pgrp: number;
}

const statBuffer = Buffer.alloc(512);

function readProcStats(): Map<number, ProcStat> {
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

/** Children of every thread of `pid` (a thread's children are listed under that thread only). */
function childrenOf(pid: number): number[] {
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
function pageSize(): number {
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

function halve(points: TimelinePoint[]): TimelinePoint[] {
  const out: TimelinePoint[] = [];
  for (let i = 0; i < points.length; i += 2) {
    const a = points[i]!;
    const b = points[i + 1];
    out.push(b && b.rss > a.rss ? b : a);
  }
  return out;
}

function wrapper(): { path?: string; unavailable?: string } {
  try {
    return nativeTool("rsswrap", "executable");
  } catch (error) {
    return { unavailable: `rsswrap unavailable: ${(error as Error).message}` };
  }
}

interface Fifo {
  read: number;
  write: number;
}

/**
 * Named pipes for stdout and stderr (read end non-blocking, for libuv), unlinked once open so
 * nothing else can ever open them. Node cannot read an anonymous pipe it created into a reused
 * buffer, but it can read a FIFO's fd so. undefined when mkfifo is missing: ordinary pipes then.
 */
function openFifos(): { stdout: Fifo; stderr: Fifo; close(): void } | undefined {
  const paths = [spareFifo(), spareFifo()];
  const fds: number[] = [];
  try {
    const open = (path: string): Fifo => {
      // The reader first: opening a FIFO for writing blocks until it has a reader.
      const read = openSync(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
      fds.push(read);
      const write = openSync(path, fsConstants.O_WRONLY);
      fds.push(write);
      return { read, write };
    };
    if (!paths[0] || !paths[1]) return undefined;
    const stdout = open(paths[0]);
    const stderr = open(paths[1]);
    return { stdout, stderr, close: () => fds.forEach(closeQuietly) };
  } catch {
    fds.forEach(closeQuietly);
    return undefined;
  } finally {
    for (const path of paths) if (path) rmSync(path, { force: true });
  }
}

const FIFO_BATCH = 32;
const FIFO_DIR_PREFIX = "membudget-fifos-";

/** A process killed by a signal never runs its exit hook: remove stocks whose owner is gone. */
function sweepStaleFifoDirs(): void {
  try {
    for (const name of readdirSync(tmpdir())) {
      const owner = new RegExp(`^${FIFO_DIR_PREFIX}(\\d+)-`).exec(name)?.[1];
      if (owner === undefined || Number(owner) === process.pid || pidAlive(Number(owner))) continue;
      rmSync(join(tmpdir(), name), { recursive: true, force: true });
    }
  } catch {
    // Best effort.
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
const fifoStock: { dir?: string; next: number; made: string[]; broken: boolean } = {
  next: 0,
  made: [],
  broken: false,
};

/** A fresh FIFO path; they are made 32 at a time, since one mkfifo process costs ~5 ms. */
function spareFifo(): string | undefined {
  if (fifoStock.broken) return undefined;
  if (fifoStock.made.length === 0) {
    if (!fifoStock.dir) {
      sweepStaleFifoDirs();
      const dir = mkdtempSync(join(tmpdir(), `${FIFO_DIR_PREFIX}${process.pid}-`));
      fifoStock.dir = dir;
      process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    }
    const batch: string[] = [];
    for (let i = 0; i < FIFO_BATCH; i++) batch.push(join(fifoStock.dir, `f${fifoStock.next++}`));
    const made = spawnSync("mkfifo", ["-m", "600", ...batch], { stdio: "ignore" });
    if (made.status !== 0) {
      fifoStock.broken = true;
      return undefined;
    }
    fifoStock.made = batch;
  }
  return fifoStock.made.pop();
}

/** Whether a process group still has a member that is not a zombie (init may reap them late). */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  for (const stat of readProcStats().values()) if (stat.pgrp === pgid && stat.state !== "Z") return true;
  return false;
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  if (pgid > 1) signalPid(-pgid, signal);
}

function signalPid(pid: number, signal: NodeJS.Signals): void {
  if (pid === process.pid || pid === 0 || pid === 1 || pid === -1) return;
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Nothing to do.
  }
}

function signalName(n: number): string {
  for (const [name, value] of Object.entries(constants.signals)) if (value === n) return name;
  return `signal ${n}`;
}

function formatMs(ms: number): string {
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms >= 1000) return `${Number((ms / 1000).toFixed(3))}s`;
  return `${ms}ms`;
}
