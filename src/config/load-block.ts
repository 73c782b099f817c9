// A scenario's `load` block (docs/load.md) → a LoadPlan: defaults filled in, and the rules a
// schema cannot say (exactly one driver, loopback targets only, enough rounds after warm-up).
import type { Problem } from "../model/errors.js";
import { LOAD_METRICS, type MetricKey } from "../model/metrics.js";
import { parseIn } from "../model/units.js";
import type { LoadPlan } from "./types.js";

export const LOAD_DEFAULTS = { readyTimeout: 30, concurrency: 8, rounds: 10, warmup: 2, grace: 5 } as const;

export interface LoadInput {
  ready: string;
  readyTimeout?: number | string;
  url?: string;
  method?: LoadPlan["method"];
  drive?: string;
  requests: number | string;
  concurrency?: number;
  rounds?: number;
  warmup?: number;
  grace?: number | string;
}

/** Reports a problem at a path below the scenario (the caller knows the file and the lines). */
export type ProblemAt = (path: string[], problem: Pick<Problem, "message" | "fix">) => void;

/** Hosts the driver may target: the driver never leaves the machine. */
const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

/**
 * The resolved block, or undefined when there is none. Problems go to `problem`; a value that
 * fails a rule is still resolved (to a harmless stand-in), so every problem is found in one pass.
 */
export function loadPlanOf(
  input: LoadInput | undefined,
  budget: Partial<Record<MetricKey, unknown>>,
  problem: ProblemAt,
): LoadPlan | undefined {
  if (!input) {
    for (const metric of LOAD_METRICS) {
      if (budget[metric] !== undefined)
        problem(["budget", metric], {
          message: `${metric} is measured only in a load scenario`,
          fix: `add a "load" block (see docs/load.md), or remove the ${metric} budget`,
        });
    }
    return undefined;
  }
  const at = (key: string) => ["load", key];
  if ((input.url === undefined) === (input.drive === undefined)) {
    problem(["load"], {
      message:
        input.url === undefined ? "the load block names no driver" : "the load block has both url and drive",
      fix: `give exactly one: "url" (the built-in HTTP driver, e.g. "http://127.0.0.1:{port}/items/{i}") or "drive" (a command of yours run once per round)`,
    });
  }
  for (const key of ["ready", "url"] as const) {
    const value = input[key];
    if (value === undefined) continue;
    const why = notLoopback(value);
    if (why)
      problem(at(key), {
        message: `${JSON.stringify(value)} ${why}`,
        fix: `write a loopback http:// URL such as "http://127.0.0.1:{port}/${key === "ready" ? "health" : "items/{i}"}"`,
      });
  }
  const rounds = input.rounds ?? LOAD_DEFAULTS.rounds;
  const warmup = input.warmup ?? LOAD_DEFAULTS.warmup;
  if (rounds - warmup < 3) {
    problem(at(input.warmup !== undefined ? "warmup" : "rounds"), {
      message: `${rounds} rounds with ${warmup} of warm-up leave ${Math.max(0, rounds - warmup)} to fit a slope to`,
      fix: `keep at least 3 rounds after warm-up, e.g. "rounds": ${warmup + 3} or more`,
    });
  }
  const requests = parseIn("count", input.requests) ?? 0;
  if (requests < rounds) {
    problem(at("requests"), {
      message: `${requests} requests cannot be split into ${rounds} rounds`,
      fix: `ask for at least one request per round, e.g. "requests": ${rounds * 100}`,
    });
  }
  if (input.drive !== undefined) {
    for (const metric of ["p50Latency", "p99Latency"] as const) {
      if (budget[metric] !== undefined)
        problem(["budget", metric], {
          message: `${metric} is measured by the built-in driver only; this scenario drives itself ("drive")`,
          fix: `use "url" instead of "drive", or remove the ${metric} budget`,
        });
    }
  }
  return {
    ready: input.ready,
    readyTimeout: parseIn("duration", input.readyTimeout ?? LOAD_DEFAULTS.readyTimeout) ?? 0,
    ...(input.url !== undefined ? { url: input.url } : {}),
    method: input.method ?? "GET",
    ...(input.drive !== undefined ? { drive: input.drive } : {}),
    requests,
    concurrency: input.concurrency ?? LOAD_DEFAULTS.concurrency,
    rounds,
    warmup,
    grace: parseIn("duration", input.grace ?? LOAD_DEFAULTS.grace) ?? LOAD_DEFAULTS.grace,
  };
}

/** Why a URL is not one the driver may use, or undefined when it is. */
export function notLoopback(text: string): string | undefined {
  let url: URL;
  try {
    url = new URL(text.replaceAll("{port}", "1").replaceAll("{i}", "0"));
  } catch {
    return "is not a URL";
  }
  if (url.protocol !== "http:") return `uses ${url.protocol.replace(/:$/, "")}; the driver speaks plain http`;
  if (!LOOPBACK.has(url.hostname))
    return `targets ${url.hostname}: the driver only targets loopback addresses`;
  return undefined;
}
