// Readiness: polls a load scenario's `ready` URL until it answers below 400, the service exits,
// or the ready timeout passes.
import { Client } from "undici";
import { formatSetting } from "../../model/units.js";

export type Readiness = { ready: true } | { ready: false; why: string };

const POLL_MS = 100;

export async function waitUntilReady(
  url: string,
  timeoutMs: number,
  exited: () => string | undefined,
  signal: AbortSignal,
): Promise<Readiness> {
  const deadline = performance.now() + timeoutMs;
  let last = "it never answered";
  const target = new URL(url);
  // Its own client, closed at the end: a pooled keep-alive socket would outlive the poll.
  const client = new Client(target.origin, { headersTimeout: 2000, bodyTimeout: 2000 });
  try {
    return await poll();
  } finally {
    await client.destroy().catch(() => {});
  }

  async function poll(): Promise<Readiness> {
    while (!signal.aborted) {
      const gone = exited();
      if (gone) return { ready: false, why: `the service exited before it was ready (${gone})` };
      try {
        const response = await client.request({
          path: `${target.pathname}${target.search}`,
          method: "GET",
          signal,
        });
        await response.body.dump();
        if (response.statusCode < 400) return { ready: true };
        last = `its last answer was ${response.statusCode}`;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        last = `its last attempt failed: ${code ?? (error as Error).message}`;
      }
      if (performance.now() >= deadline) break;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    return { ready: false, why: `${url} was not ready after ${formatSetting(timeoutMs / 1000)} (${last})` };
  }
}
