// Named pipes for a workload's stdout and stderr, made in batches and swept when their owner is gone.
import { spawn, spawnSync } from "node:child_process";
import { constants as fsConstants, mkdtempSync, openSync, readdir, rm, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onPath } from "../../model/paths.js";
import { closeQuietly } from "./procfs.js";
import { pidAlive } from "./signals.js";

export interface Fifo {
  read: number;
  write: number;
}

/**
 * Named pipes for stdout and stderr (read end non-blocking, for libuv), unlinked once open so
 * nothing else can ever open them. Node cannot read an anonymous pipe it created into a reused
 * buffer, but it can read a FIFO's fd so. undefined when mkfifo is missing: ordinary pipes then.
 */
export function openFifos(): { stdout: Fifo; stderr: Fifo; close(): void } | undefined {
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

/**
 * A process killed by a signal never runs its exit hook: remove stocks whose owner is gone. In the
 * background (a busy /tmp lists thousands of names), as the sweep is best effort.
 */
function sweepStaleFifoDirs(): void {
  readdir(tmpdir(), (error, names) => {
    if (error) return;
    for (const name of names) {
      const owner = new RegExp(`^${FIFO_DIR_PREFIX}(\\d+)-`).exec(name)?.[1];
      if (owner === undefined || Number(owner) === process.pid || pidAlive(Number(owner))) continue;
      rm(join(tmpdir(), name), { recursive: true, force: true }, () => {});
    }
  });
}

const fifoStock: {
  dir?: string;
  next: number;
  made: string[];
  broken: boolean;
  /** A batch being made in the background (`prepareFifos`). */
  pending?: Promise<void>;
} = {
  next: 0,
  made: [],
  broken: false,
};

function stockDir(): string {
  if (!fifoStock.dir) {
    sweepStaleFifoDirs();
    const dir = mkdtempSync(join(tmpdir(), `${FIFO_DIR_PREFIX}${process.pid}-`));
    fifoStock.dir = dir;
    process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
  }
  return fifoStock.dir;
}

function nextBatch(): string[] {
  const dir = stockDir();
  const batch: string[] = [];
  for (let i = 0; i < FIFO_BATCH; i++) batch.push(join(dir, `f${fifoStock.next++}`));
  return batch;
}

/**
 * Makes the next batch of FIFOs without waiting for mkfifo, so that a caller can do other work
 * meanwhile (the CLI reads the budget file); openFifos then takes them. Resolves once they exist.
 */
export function prepareFifos(): Promise<void> {
  if (fifoStock.broken || fifoStock.made.length >= 2) return Promise.resolve();
  fifoStock.pending ??= new Promise<void>((resolve) => {
    const batch = nextBatch();
    let settled = false;
    const done = (ok: boolean) => {
      if (settled) return;
      settled = true;
      fifoStock.pending = undefined;
      if (ok) fifoStock.made.push(...batch);
      else fifoStock.broken = true;
      resolve();
    };
    spawn(onPath("mkfifo"), ["-m", "600", ...batch], { stdio: "ignore" })
      .once("error", () => done(false))
      .once("exit", (code) => done(code === 0));
  });
  return fifoStock.pending;
}

/** A fresh FIFO path; they are made 32 at a time, since one mkfifo process costs ~5 ms. */
function spareFifo(): string | undefined {
  if (fifoStock.broken) return undefined;
  if (fifoStock.made.length === 0) {
    const batch = nextBatch();
    const made = spawnSync(onPath("mkfifo"), ["-m", "600", ...batch], { stdio: "ignore" });
    if (made.status !== 0) {
      fifoStock.broken = true;
      return undefined;
    }
    fifoStock.made = batch;
  }
  return fifoStock.made.pop();
}
