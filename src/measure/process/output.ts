// A run's stdout and stderr, wherever they come from (rsswrap's FIFOs, our own FIFOs, or plain
// pipes): each kept as a bounded tail and streamed to the caller's hook; the streams, whose closing
// says that the output is over.
import type { ChildProcess } from "node:child_process";
import { constants as fsConstants, openSync } from "node:fs";
import { Socket } from "node:net";
import { join } from "node:path";
import type { Readable } from "node:stream";
import type { Fifo } from "./fifos.js";
import { OutputTail } from "./output-tail.js";
import { closeQuietly } from "./procfs.js";

type Name = "stdout" | "stderr";

export class RunOutput {
  readonly stdout: OutputTail;
  readonly stderr: OutputTail;
  /** What is still to be read; the run's output is over when all of them have closed. */
  streams: Readable[] = [];
  /** rsswrap's handshake channel (fromWrapper), which stands for the streams until its FIFOs open. */
  private channel: Readable | undefined;
  private hookFailed = false;

  constructor(
    limit: number,
    private readonly onOutput: ((stream: Name, chunk: Buffer) => void) | undefined,
    private readonly notes: string[],
  ) {
    this.stdout = new OutputTail(limit);
    this.stderr = new OutputTail(limit);
  }

  /**
   * rsswrap makes the output FIFOs in `dir` and writes "R" on fd 3 (`channel`) once they exist
   * (rsswrap.c, --fifos): their read ends are opened then, which lets it open the write ends and
   * start the command. Until then the channel stands for the streams; "E" and a reason
   * means they could not be made, and rsswrap exits (`failed`, as when they cannot be opened here:
   * `stopWrapper` then, as rsswrap waits for a reader that will not come).
   */
  fromWrapper(
    channel: Readable,
    dir: string,
    on: { failed(reason: string, stopWrapper: boolean): void },
  ): void {
    let said = "";
    this.channel = channel;
    this.streams = [channel];
    channel.on("error", () => {});
    channel.on("data", (chunk: Buffer) => {
      said += chunk.toString();
      if (said.startsWith("E")) on.failed(said.slice(1), false);
      if (!said.startsWith("R") || this.streams[0] !== channel) return;
      const fds: number[] = [];
      try {
        for (const name of ["out", "err"]) {
          fds.push(openSync(join(dir, name), fsConstants.O_RDONLY | fsConstants.O_NONBLOCK));
        }
      } catch (error) {
        fds.forEach(closeQuietly);
        on.failed(`could not open the output pipes: ${(error as Error).message}`, true);
        return;
      }
      this.streams = [this.readFifo(fds[0]!, "stdout"), this.readFifo(fds[1]!, "stderr")];
      channel.destroy();
    });
  }

  /** Our own FIFOs (fifos.ts), once the child holds their write ends. */
  fromFifos(fifos: { stdout: Fifo; stderr: Fifo }): void {
    // The child holds its own copies of the write ends; ours would keep EOF from ever coming.
    closeQuietly(fifos.stdout.write);
    closeQuietly(fifos.stderr.write);
    this.streams = [this.readFifo(fifos.stdout.read, "stdout"), this.readFifo(fifos.stderr.read, "stderr")];
  }

  /** Plain pipes from spawn, where no FIFO could be made. */
  fromPipes(child: ChildProcess): void {
    this.streams = [this.readPipe(child.stdout!, "stdout"), this.readPipe(child.stderr!, "stderr")];
  }

  destroy(): void {
    for (const stream of this.streams) stream.destroy();
  }

  /** Stops reading FIFOs whose writer never came (the wrapper ran nothing); the channel stays. */
  dropFifos(): void {
    if (this.channel && this.streams.includes(this.channel)) return;
    this.destroy();
    this.streams = [];
  }

  /**
   * Reads a FIFO into one reused buffer: a 'data' event allocates a fresh Buffer per chunk, and
   * V8 collects those only after ~64 MiB of them, so 1 GiB of output grew us by ~70 MiB.
   */
  private readFifo(fd: number, name: Name): Readable {
    const socket = new Socket({
      fd,
      readable: true,
      writable: false,
      onread: {
        buffer: Buffer.allocUnsafe(64 * 1024),
        callback: (n: number, buffer: Uint8Array): boolean => {
          this.output(name, Buffer.from(buffer.buffer, buffer.byteOffset, n), true);
          return true;
        },
      },
    });
    // Destroying a pipe that a grandchild still holds is expected; its errors carry no news.
    socket.on("error", () => {});
    return socket;
  }

  private readPipe(stream: Readable, name: Name): Readable {
    stream.on("data", (chunk: Buffer) => this.output(name, chunk, false));
    stream.on("error", () => {});
    return stream;
  }

  private output(name: Name, chunk: Buffer, reused: boolean): void {
    this[name].push(chunk);
    if (!this.onOutput || this.hookFailed) return;
    try {
      this.onOutput(name, reused ? Buffer.from(chunk) : chunk);
    } catch (error) {
      this.hookFailed = true;
      this.notes.push(`output hook failed and was dropped: ${(error as Error).message}`);
    }
  }
}
