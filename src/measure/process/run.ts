// Runs one command under measurement: spawns it through rsswrap (exact per-process peak RSS),
// enforces the timeout on the whole process tree, keeps bounded output tails and samples the
// tree's RSS over time for the timeline.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { monotonicMs } from "../../model/clock.js";
import { formatSetting } from "../../model/units.js";
import { downsample } from "../timeline.js";
import { openFifos, prepareFifos } from "./fifos.js";
import { gapReason, ProcessLedger } from "./ledger.js";
import { groupMembers, type Leftover, leftoverNote } from "./leftovers.js";
import { RunOutput } from "./output.js";
import { groupAlive } from "./procfs.js";
import { type WrapperResult, wrapper } from "./rsswrap.js";
import { signalGroup, signalName, signalPid } from "./signals.js";
import type { RunHooks, RunOutcome, RunSpec } from "./spec.js";
import { TreeSampler } from "./tree-sampler.js";

export type { RunHooks, RunOutcome, RunSpec } from "./spec.js";

const TIMELINE_POINTS = 200;
/** How long the pipes may stay open after the command is gone (a grandchild may hold them). */
const DRAIN_MS = 250;
/** After SIGKILL, how long to wait for the process to be reaped before giving up on it. */
const GIVE_UP_MS = 1000;
const KILL_REPEAT_MS = 250;
const GROUP_POLL_MS = 50;
/** What the command left running gets this long to end on its own (as SETTLE_MS in rsswrap.c). */
const SETTLE_MS = 1000;

/** Never throws: every failure, including failure to start, is a RunOutcome with `error`. */
export function runOnce(spec: RunSpec, hooks: RunHooks = {}): Promise<RunOutcome> {
  return new Execution(spec, hooks).run();
}

/** State of one running command; lives from spawn until the outcome is settled. */
class Execution {
  private readonly graceMs: number;
  private readonly notes: string[] = [];
  private readonly output: RunOutput;
  private readonly wrapperPath: string | undefined;
  private workDir: string | undefined;
  private child: ChildProcess | undefined;
  private sampler: TreeSampler | undefined;
  private started = 0;
  private exitedAt: number | undefined;
  private exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private stopReason: "timeout" | "cancelled" | "stopped" | undefined;
  private sentKill = false;
  /** Why rsswrap could not make the output FIFOs, if it could not (the run is then started again). */
  private noWrapperFifos: string | undefined;
  /** Whether this start runs through rsswrap's FIFOs. */
  private wrapperFifos = false;
  private gaveUp = false;
  private startError: string | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private settle: ((outcome: RunOutcome) => void) | undefined;
  private settled = false;
  /** What the command left running (found here when there is no rsswrap to find it). */
  private leftovers: { count: number; named: Leftover[]; killed: boolean } | undefined;
  private onAbort = (): void => this.stop("cancelled");
  private onStop = (): void => this.stop("stopped");
  private readonly ledger: ProcessLedger | undefined;

  constructor(
    private readonly spec: RunSpec,
    hooks: RunHooks,
  ) {
    this.graceMs = spec.graceMs ?? 5000;
    this.ledger = spec.probes ? new ProcessLedger(spec.probes.dir) : undefined;
    const limit = spec.outputLimit ?? 64 * 1024;
    this.output = new RunOutput(limit, hooks.onOutput, this.notes);
    const interval = spec.sampleIntervalMs ?? 20;
    const tool = spec.useRsswrap === false ? { unavailable: "rsswrap disabled" } : wrapper();
    if ("note" in tool && tool.note) this.notes.push(tool.note);
    if (tool.path) {
      this.wrapperPath = tool.path;
    } else {
      this.notes.push(
        `peakRss is sampled from /proc every ${interval} ms, so spikes shorter than that can be missed ` +
          `(${tool.unavailable ?? "rsswrap unavailable"})`,
      );
    }
  }

  async run(): Promise<RunOutcome> {
    // rsswrap makes its own FIFOs. Without it they come in batches from a mkfifo process: wait
    // for it here rather than block the thread.
    if (!this.wrapperPath) await prepareFifos();
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
    const wrapperFifos = this.wrapperPath !== undefined && this.noWrapperFifos === undefined;
    this.wrapperFifos = wrapperFifos;
    if (this.wrapperPath) {
      file = this.wrapperPath;
      args = [
        join(this.workDir, "rsswrap.json"),
        `--grace-ms=${this.graceMs}`,
        ...(wrapperFifos ? [`--fifos=${this.workDir}`] : []),
        ...(spec.probes ? [`--probe-dir=${spec.probes.dir}`] : []),
        "--",
        "/bin/sh",
        ...args,
      ];
      // The wrapper is our instrument, not the workload: it hands LD_PRELOAD to the workload
      // only, so that the malloc probe does not count the wrapper's own allocations.
      if (env["LD_PRELOAD"] !== undefined) {
        const { LD_PRELOAD, ...rest } = env;
        env = { ...rest, MEMBUDGET_PRELOAD: LD_PRELOAD };
      }
    }
    const fifos = wrapperFifos ? undefined : openFifos();
    this.started = monotonicMs();
    let child: ChildProcess;
    try {
      child = spawn(file, args, {
        cwd: spec.cwd,
        env,
        // Own process group (and session): the timeout kills the group, never us.
        detached: true,
        // rsswrap says on fd 3 when its FIFOs exist (RunOutput.fromWrapper).
        stdio: wrapperFifos
          ? ["ignore", "ignore", "ignore", "pipe"]
          : fifos
            ? ["ignore", fifos.stdout.write, fifos.stderr.write]
            : ["ignore", "pipe", "pipe"],
      });
    } catch (error) {
      fifos?.close();
      this.failToStart(error);
      return;
    }
    this.child = child;
    if (wrapperFifos) {
      this.output.fromWrapper(child.stdio[3] as Readable, this.workDir, {
        failed: (reason, stopWrapper) => {
          // rsswrap could not make FIFOs here (a file system without them, a sandbox): it ran
          // nothing, and the run starts again with our own, or plain pipes (finish).
          if (!stopWrapper) {
            this.noWrapperFifos = reason;
            return;
          }
          this.startError = `could not start: ${reason}`;
          if (!child.pid) return;
          // rsswrap waits for a reader that will not come: a signal ends it (rsswrap.c, in_handshake).
          signalGroup(child.pid, "SIGTERM");
          this.later(KILL_REPEAT_MS, () => signalGroup(child.pid!, "SIGKILL"));
        },
      });
    } else if (fifos) {
      this.output.fromFifos(fifos);
    } else {
      this.output.fromPipes(child);
    }
    child.once("error", (error) => {
      // Only spawn failures matter here; a failed kill() also lands here and is harmless.
      if (child.pid === undefined) this.failToStart(error);
    });
    if (child.pid === undefined) return; // the 'error' event follows
    child.once("exit", (code, signal) => this.onExit(code, signal));

    this.sampler = new TreeSampler(
      child.pid,
      !this.wrapperPath,
      spec.sampleIntervalMs ?? 20,
      this.started,
      spec.liveDir,
      this.ledger,
    );
    this.sampler.start();
    this.later(spec.timeoutMs, () => this.stop("timeout"));
    if (spec.signal) {
      if (spec.signal.aborted) this.stop("cancelled");
      else spec.signal.addEventListener("abort", this.onAbort, { once: true });
    }
    if (spec.stop) {
      if (spec.stop.aborted) this.stop("stopped");
      else spec.stop.addEventListener("abort", this.onStop, { once: true });
    }
  }

  private failToStart(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.startError = existsSync(this.spec.cwd)
      ? `could not start: ${message}`
      : `could not start: the working directory ${this.spec.cwd} does not exist`;
    this.finish();
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.exitedAt = monotonicMs();
    this.exit = { code, signal };
    if (this.settled) return;
    if (this.wrapperPath) {
      // rsswrap exits only once every descendant is reaped. Exit 125 and no result: it ran nothing
      // (the handshake, the fork or its arguments failed), and a FIFO that never had a writer never
      // says EOF: only the handshake channel, which carries the reason, is waited for.
      if (code === 125 && !existsSync(join(this.workDir!, "rsswrap.json"))) this.output.dropFifos();
      this.drainThenFinish();
      return;
    }
    // Without rsswrap, what the shell left in its group is stopped as rsswrap stops it (the settle
    // time, TERM, the grace, KILL); a setsid daemon escapes the group, and this path cannot see it.
    const pgid = this.child!.pid!;
    this.later(SETTLE_MS, () => {
      const left = groupMembers(pgid);
      if (left.length === 0) return;
      this.leftovers = { count: left.length, named: left.slice(0, 16), killed: false };
      signalGroup(pgid, "SIGTERM");
      this.later(this.graceMs, () => {
        if (this.leftovers) this.leftovers.killed = groupAlive(pgid);
        const kill = (): void => {
          signalGroup(pgid, "SIGKILL");
          this.later(KILL_REPEAT_MS, kill);
        };
        kill();
      });
    });
    const poll = (): void => {
      if (this.settled) return;
      if (groupAlive(pgid)) this.later(GROUP_POLL_MS, poll);
      else this.drainThenFinish();
    };
    poll();
  }

  private drainThenFinish(): void {
    const open = this.output.streams.filter((s) => !s.closed);
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
  private stop(reason: "timeout" | "cancelled" | "stopped"): void {
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

  /** After rsswrap could not make its FIFOs: nothing ran; the same run again, with ours or pipes. */
  private startAgain(): void {
    this.stopWatching();
    this.sampler = undefined;
    if (this.workDir) rmSync(this.workDir, { recursive: true, force: true });
    this.child = undefined;
    this.exit = undefined;
    this.exitedAt = undefined;
    void prepareFifos().then(() => this.start());
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
    if (this.noWrapperFifos !== undefined && this.wrapperFifos && !this.stopReason) {
      this.startAgain();
      return;
    }
    this.settled = true;
    this.stopWatching();
    this.settle!(this.outcome());
  }

  /** Timers, listeners, the sampler and the output streams: what watches the run, stopped. */
  private stopWatching(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.spec.signal?.removeEventListener("abort", this.onAbort);
    this.spec.stop?.removeEventListener("abort", this.onStop);
    this.sampler?.stop();
    this.output.destroy();
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
    const end = this.exitedAt ?? monotonicMs();
    const outcome: RunOutcome = {
      exitCode,
      signal,
      timedOut: this.stopReason === "timeout",
      wallTime: result && result.wallTime > 0 ? result.wallTime : (end - this.started) / 1000,
      timeline: this.sampler ? downsample(this.sampler.points, TIMELINE_POINTS) : [],
      stdoutTail: this.output.stdout.text(),
      stderrTail: this.output.stderr.text(),
      stdoutBytes: this.output.stdout.total,
      stderrBytes: this.output.stderr.total,
      notes: this.notes,
    };
    if (result && result.maxRss > 0) outcome.peakRss = result.maxRss;
    else if ((this.sampler?.peakProcess ?? 0) > 0) outcome.peakRss = this.sampler!.peakProcess;
    if ((this.sampler?.peakPss ?? 0) > 0) outcome.peakPss = this.sampler!.peakPss;
    if (this.wrapperPath && !result && this.child?.pid !== undefined && sampled > 0) {
      this.notes.push("rsswrap wrote no result; peakRss is sampled, which can miss short spikes");
    }
    if (result?.notSubreaper) {
      this.notes.push(
        `rsswrap could not adopt orphaned processes (PR_SET_CHILD_SUBREAPER: ${result.notSubreaper}): ` +
          "peakRss and the check for processes left running see only those whose parents wait for them",
      );
    }
    if (sampled > 0) outcome.peakRssTree = sampled;
    const left = result?.leftoverCount
      ? {
          count: result.leftoverCount,
          named: result.leftovers ?? [],
          killed: result.leftoversKilled === true,
        }
      : this.leftovers;
    if (left) this.notes.push(leftoverNote(left, this.graceMs));
    const error = this.describeError(exitCode, signal);
    if (error) outcome.error = error;
    if (this.ledger && this.spec.probes) {
      if (result?.exited) this.ledger.addWrapper(result.exited);
      const gaps = this.ledger.gaps(this.spec.probes.runtime);
      const overflow =
        this.ledger.overflow || (result?.exitedDropped ?? 0) > 0 || result?.exitedLost === true;
      if (gaps.length > 0 || overflow) outcome.probeGaps = gapReason(gaps, overflow);
    }
    return outcome;
  }

  private describeError(exitCode: number | null, signal: string | null): string | undefined {
    if (this.startError) return this.startError;
    if (this.stopReason === "stopped") {
      if (!this.sentKill) return undefined;
      return `it did not exit within ${formatMs(this.graceMs)} of SIGTERM: killed with SIGKILL${this.gaveUp ? " (it still had not exited)" : ""}`;
    }
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

function formatMs(ms: number): string {
  return formatSetting(ms / 1000);
}
