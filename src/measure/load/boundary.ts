// The round boundary: asks every probed process of the service, over the Unix socket its load
// probe opened in the run's directory (<pid>.load.sock), to collect its garbage and say what it
// still holds; or, in the attribution run, to mark the end of warm-up and to list what grew since.
import { readdirSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { formatSetting } from "../../model/units.js";

export interface ProbeAnswer {
  pid: number;
  retained?: number | null;
  how?: string;
  marked?: boolean;
  sites?: { location: string; function?: string; bytes: number; count?: number; stack?: string[] }[];
  /** A measured run's sampled sites (the allocation probe's JSON with its "retained" list). */
  sampled?: unknown;
  error?: string;
}

const SOCKET = /^(\d+)\.load\.sock$/;

/** A full collection of a large heap takes a while; an answer slower than this is a hung probe. */
export const ANSWER_TIMEOUT_MS = 30_000;

/**
 * Sends `command` to every load probe in `outDir` and returns the answers. A socket nobody
 * listens on any more (a process that exited) is skipped: its memory is no longer held.
 */
export async function askProbes(
  outDir: string,
  command: string,
  timeoutMs = ANSWER_TIMEOUT_MS,
): Promise<ProbeAnswer[]> {
  let names: string[];
  try {
    names = readdirSync(outDir).filter((n) => SOCKET.test(n));
  } catch {
    return [];
  }
  const answers = await Promise.all(names.map((n) => ask(join(outDir, n), command, timeoutMs)));
  return answers.filter((a): a is ProbeAnswer => a !== undefined);
}

function ask(path: string, command: string, timeoutMs: number): Promise<ProbeAnswer | undefined> {
  return new Promise((resolve, reject) => {
    const socket = connect(path);
    let text = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(
        new Error(
          `the probe at ${path} did not answer "${command}" within ${formatSetting(timeoutMs / 1000)}`,
        ),
      );
    }, timeoutMs);
    socket.setEncoding("utf8");
    socket.on("connect", () => socket.write(`${command}\n`));
    socket.on("data", (chunk: string) => {
      text += chunk;
    });
    socket.on("error", (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      // The process is gone (its socket file stayed behind): nothing of it is retained.
      if (error.code === "ECONNREFUSED" || error.code === "ENOENT") resolve(undefined);
      else reject(error);
    });
    socket.on("close", () => {
      clearTimeout(timer);
      const line = text.trim();
      if (line === "") return resolve(undefined);
      try {
        resolve(JSON.parse(line) as ProbeAnswer);
      } catch {
        reject(new Error(`the probe at ${path} answered something that is not JSON: ${line.slice(0, 200)}`));
      }
    });
  });
}
