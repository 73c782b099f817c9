// Samples a workload's process tree from /proc: summed RSS for the timeline, the largest single
// process's RSS, and summed PSS (a shared page counted once) for the tree's peak memory; and,
// beside them on the same tick, the live heap the allocation probe publishes in <pid>.live files.
import { existsSync, openSync, readdirSync, readSync } from "node:fs";
import { join } from "node:path";
import { monotonicMs } from "../../model/clock.js";
import type { TimelinePoint } from "../../model/report.js";
import type { ProcessLedger } from "./ledger.js";
import { CHILDREN_FILES, childrenOf, closeQuietly, PAGE_SIZE, readProcStats } from "./procfs.js";

const DISCOVER_MS = 100;
const EARLY_MS = 200;
/**
 * smaps_rollup walks the page tables (≈0.35 ms for a 100 MiB process, more for larger ones):
 * reading it every tick would cost a core on big trees, so PSS is read at most this share of the time.
 */
const PSS_SHARE = 0.04;
/**
 * The page the malloc interposer maps over its counters (mbmalloc.h, mb_page_t): live, peak,
 * total, count as int64, then the magic and the pid as uint32, then at PYTHON_LIVE the live bytes
 * of Python's own allocations (counted apart), in the machine's byte order (little-endian on every
 * machine mbmalloc supports: x64 and arm64 Linux).
 */
const PYTHON_LIVE = 64;
const LIVE_BYTES = PYTHON_LIVE + 8;
const LIVE_MAGIC = 0x564c424d;
const LIVE_FILE = /^(\d+)\.live$/;
/** Whether the kernel has /proc/PID/smaps_rollup (Linux 4.14 or later). */
export const SMAPS_ROLLUP = existsSync("/proc/self/smaps_rollup");

/**
 * Samples the summed RSS of a process tree. statm is read through fds kept open (6 µs a read, and
 * an fd never follows a reused pid); the tree is rediscovered only every DISCOVER_MS or so (every
 * tick in the first EARLY_MS, for short workloads), from children links under rsswrap and from
 * /proc/<pid>/stat ppid links otherwise.
 */
export class TreeSampler {
  /** Largest sum of VmRSS over the tree (counts a shared page once per process). */
  peak = 0;
  /** Largest VmRSS of a single process seen (the figure rsswrap gives exactly). */
  peakProcess = 0;
  /** Largest sum of PSS over the tree: every page counted once, shared ones split between sharers. */
  peakPss = 0;
  /** How many PSS sums were taken (0: the workload ended first, or no smaps_rollup). */
  pssSamples = 0;
  points: TimelinePoint[] = [];
  private readonly fds = new Map<number, number>();
  /** The live-heap page of each tracked process that publishes one (pid → fd). */
  private readonly liveFds = new Map<number, number>();
  private readonly liveBuffer = Buffer.alloc(LIVE_BYTES);
  private readonly pssBuffer = Buffer.alloc(2048);
  private nextPss = 0;
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
    /** Where the allocation probe publishes each process's live heap (the run's out dir). */
    private readonly liveDir?: string,
    /** Told of every process tracked (on each discovery round) and of its end. */
    private readonly ledger?: ProcessLedger,
  ) {}

  start(): void {
    this.tick();
    this.timer = setInterval(() => this.tick(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    // The run is over: whatever is still tracked has ended (or is being given up on).
    for (const pid of this.fds.keys()) this.ledger?.gone(pid);
    for (const fd of this.fds.values()) closeQuietly(fd);
    this.fds.clear();
    for (const fd of this.liveFds.values()) closeQuietly(fd);
    this.liveFds.clear();
  }

  /** The tree as of now, for killing it: pids and their process groups. */
  currentTree(): { pids: number[]; pgids: number[] } {
    const tree = this.scan();
    return { pids: [...tree.keys()], pgids: [...new Set(tree.values())] };
  }

  private tick(): void {
    const now = monotonicMs();
    // Discover on every tick at first (short workloads), then at the adaptive period.
    if (now >= this.nextDiscovery || now - this.t0 < EARLY_MS) {
      const begun = monotonicMs();
      for (const pid of this.discover()) this.track(pid);
      // Every round, not only at discovery: an exec (sh -c, a shim) changes what a pid runs.
      if (this.ledger) for (const pid of this.fds.keys()) this.ledger.look(pid);
      if (this.liveDir) this.trackLive(this.liveDir);
      // Keep discovery to about 2 % of a core however many processes the machine runs.
      const cost = monotonicMs() - begun;
      // With a ledger every tick where that stays cheap: a process its parent reaps is seen only
      // by discovery, and one that ran Python without the probe must not slip between rounds.
      this.discoveryEvery = Math.max(this.ledger ? this.intervalMs : DISCOVER_MS, cost * 50);
      this.nextDiscovery = now + this.discoveryEvery;
    }
    let sum = 0;
    let heap: number | undefined;
    for (const [pid, fd] of this.fds) {
      const pages = this.readResidentPages(fd);
      if (pages === undefined) {
        closeQuietly(fd);
        this.fds.delete(pid);
        this.untrackLive(pid);
        this.ledger?.gone(pid);
      } else {
        sum += pages * PAGE_SIZE;
        if (pages * PAGE_SIZE > this.peakProcess) this.peakProcess = pages * PAGE_SIZE;
        // A process's heap counts while it lives, like its RSS; read in the same pass.
        const liveFd = this.liveFds.get(pid);
        const live = liveFd === undefined ? undefined : this.readLive(liveFd, pid);
        if (live !== undefined) heap = (heap ?? 0) + live;
      }
    }
    if (sum > this.peak) this.peak = sum;
    if (SMAPS_ROLLUP && now >= this.nextPss) this.samplePss(now);
    this.points.push({ t: (now - this.t0) / 1000, rss: sum, ...(heap !== undefined ? { heap } : {}) });
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

  /**
   * Opens the live-heap page of each tracked process that has published one. The directory is
   * listed only on discovery rounds (a process publishes its page when the probe loads, right
   * after exec), so a process is found within one discovery period of its start.
   */
  private trackLive(dir: string): void {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      return; // the run's directory is gone: the run is over
    }
    for (const name of names) {
      const match = LIVE_FILE.exec(name);
      if (!match) continue;
      const pid = Number(match[1]);
      if (!this.fds.has(pid) || this.liveFds.has(pid)) continue;
      try {
        this.liveFds.set(pid, openSync(join(dir, name), "r"));
      } catch {
        // Gone already.
      }
    }
  }

  private untrackLive(pid: number): void {
    const fd = this.liveFds.get(pid);
    if (fd === undefined) return;
    closeQuietly(fd);
    this.liveFds.delete(pid);
  }

  /**
   * A process's live heap bytes, or undefined when its page is not (yet) this process's: the magic
   * and pid are written after the counters are in place. Live is signed (a mark racing with other
   * threads can leave it slightly below 0): counted as 0 then.
   */
  private readLive(fd: number, pid: number): number | undefined {
    try {
      const n = readSync(fd, this.liveBuffer, 0, LIVE_BYTES, 0);
      if (n < LIVE_BYTES) return undefined;
      const b = this.liveBuffer;
      if (b.readUInt32LE(32) !== LIVE_MAGIC || b.readUInt32LE(36) !== pid) return undefined;
      return Math.max(0, Number(b.readBigInt64LE(0) + b.readBigInt64LE(PYTHON_LIVE)));
    } catch {
      return undefined;
    }
  }

  /**
   * One PSS sum over the tree. A page shared by n processes counts 1/n in each, so the sum counts
   * it once (copy-on-write pages of forked workers, shared libraries). The next sum waits so that
   * reading stays within PSS_SHARE of the time. Only pids whose statm fd still reads (the same
   * processes, not reused pids) are read; smaps_rollup is opened anew each time, because an open
   * one keeps the address space it was opened on, which an exec (sh -c, pyenv's shim) replaces.
   */
  private samplePss(now: number): void {
    let sum = 0;
    let read = 0;
    for (const pid of this.fds.keys()) {
      const kib = this.readPssKib(pid);
      if (kib === undefined) continue;
      sum += kib * 1024;
      read++;
    }
    const cost = monotonicMs() - now;
    this.nextPss = now + Math.max(this.intervalMs, cost / PSS_SHARE) - this.intervalMs / 2;
    if (read === 0) return;
    this.pssSamples++;
    if (sum > this.peakPss) this.peakPss = sum;
  }

  private readPssKib(pid: number): number | undefined {
    let fd: number | undefined;
    try {
      fd = openSync(`/proc/${pid}/smaps_rollup`, "r");
      const n = readSync(fd, this.pssBuffer, 0, this.pssBuffer.length, 0);
      if (n === 0) return undefined; // a zombie: no mappings left
      const text = this.pssBuffer.toString("latin1", 0, n);
      const at = text.indexOf("\nPss:");
      if (at < 0) return undefined;
      const kib = Number.parseInt(text.slice(at + 5), 10);
      return Number.isFinite(kib) ? kib : undefined;
    } catch {
      return undefined; // gone
    } finally {
      if (fd !== undefined) closeQuietly(fd);
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

function halve(points: TimelinePoint[]): TimelinePoint[] {
  const out: TimelinePoint[] = [];
  for (let i = 0; i < points.length; i += 2) {
    const a = points[i]!;
    const b = points[i + 1];
    if (!b) {
      out.push(a);
      continue;
    }
    // Each pair's higher RSS and higher heap, so that neither line loses its peak.
    const kept = b.rss > a.rss ? { ...b } : { ...a };
    const heap = Math.max(a.heap ?? -1, b.heap ?? -1);
    if (heap >= 0) kept.heap = heap;
    out.push(kept);
  }
  return out;
}
