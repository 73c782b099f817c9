// The built-in HTTP driver: `count` requests at a loopback URL ({i}: the request's number) with
// `concurrency` in flight over undici's keep-alive connection pool, each request's latency kept.
// Bounded in requests and time, and it stops by itself: an abort ends every request in flight.
import { Pool } from "undici";

export interface RoundResult {
  /** Requests answered with a status below 400. */
  ok: number;
  /** Requests that failed: no answer, or a status of 400 or more. */
  errors: number;
  /** The first failure, in words (for the error message). */
  firstError?: string;
  /** Seconds from the first request sent to the last answer. */
  seconds: number;
  /** Seconds per request, in the order they finished. */
  latencies: Float64Array;
}

export interface HttpTarget {
  /** With {port} already substituted; {i} is substituted per request. */
  url: string;
  method: string;
  concurrency: number;
}

/** No single request waits longer than this for its headers or body. */
const REQUEST_TIMEOUT_MS = 30_000;

/** One client per load run: its connections stay open across rounds (keep-alive). */
export class HttpDriver {
  private readonly pool: Pool;
  private readonly prefix: string;
  private readonly origin: string;

  constructor(private readonly target: HttpTarget) {
    const url = new URL(target.url.replaceAll("{i}", "0"));
    this.origin = url.origin;
    // The path is kept as written (with {i}), after the origin.
    this.prefix = target.url.slice(target.url.indexOf(url.host) + url.host.length) || "/";
    this.pool = new Pool(this.origin, {
      connections: target.concurrency,
      pipelining: 1,
      headersTimeout: REQUEST_TIMEOUT_MS,
      bodyTimeout: REQUEST_TIMEOUT_MS,
      connectTimeout: REQUEST_TIMEOUT_MS,
    });
  }

  /** Requests first … first+count−1; `signal` aborts the ones in flight and sends no more. */
  async round(first: number, count: number, signal: AbortSignal): Promise<RoundResult> {
    const latencies = new Float64Array(count);
    let next = 0;
    let done = 0;
    let ok = 0;
    let errors = 0;
    let firstError: string | undefined;
    const fail = (why: string) => {
      errors += 1;
      firstError ??= why;
    };
    const started = performance.now();
    const worker = async (): Promise<void> => {
      while (next < count && !signal.aborted) {
        const i = first + next++;
        const sent = performance.now();
        try {
          const response = await this.pool.request({
            path: this.prefix.replaceAll("{i}", String(i)),
            method: this.target.method as "GET",
            signal,
          });
          await response.body.dump({ limit: Number.MAX_SAFE_INTEGER });
          if (response.statusCode >= 400) fail(`request ${i} was answered ${response.statusCode}`);
          else ok += 1;
        } catch (error) {
          fail(`request ${i} failed: ${(error as Error).message}`);
        }
        latencies[done++] = (performance.now() - sent) / 1000;
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.target.concurrency, count) }, worker));
    return {
      ok,
      errors,
      ...(firstError ? { firstError } : {}),
      seconds: (performance.now() - started) / 1000,
      latencies: latencies.subarray(0, done),
    };
  }

  async close(): Promise<void> {
    await this.pool.destroy().catch(() => {});
  }
}

/** The q-quantile (0 … 1) of `values`, by the nearest-rank method; undefined when empty. */
export function quantile(values: Float64Array, q: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1];
}
