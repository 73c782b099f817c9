// Load scenarios end to end on real servers (docs/load.md): a Python http.server and a Node.js http
// server that keep a known number of bytes per request, measured through runPlan; and services
// that never get ready, crash mid-load or ignore SIGTERM, which must end in error with nothing
// left running.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parsePlan } from "../../src/config/plan.js";
import { select } from "../../src/config/select.js";
import { runPlan } from "../../src/engine/engine.js";
import type { ScenarioReport } from "../../src/model/report.js";

const FIXTURES = fileURLToPath(new URL("../fixtures/load/", import.meta.url));

/** The line of a fixture that carries `marker` in a comment (the leaking line). */
function lineOf(file: string, marker: string): number {
  return (
    readFileSync(join(FIXTURES, file), "utf8")
      .split("\n")
      .findIndex((l) => l.includes(marker)) + 1
  );
}

async function measure(scenario: Record<string, unknown>): Promise<ScenarioReport> {
  const text = JSON.stringify({ scenarios: { api: { repeat: 1, timeout: "60s", ...scenario } } });
  const plan = parsePlan(text, "membudget.json", join(FIXTURES, "membudget.json"));
  const report = await runPlan({ selection: select(plan) });
  return report.scenarios[0]!;
}

/** Processes whose command line mentions `text` (ours excluded). */
function running(text: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    if (Number(pid) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
      if (cmd.includes(text)) found.push(`${pid}: ${cmd}`);
    } catch {}
  }
  return found;
}

const load = (extra: Record<string, unknown> = {}) => ({
  ready: "http://127.0.0.1:{port}/health",
  url: "http://127.0.0.1:{port}/items/{i}",
  concurrency: 4,
  ...extra,
});

describe("load scenarios: retained per request", () => {
  it("measures a Python http.server that keeps bytes(1024) per request at 1,065 B (±10 %) and names the line", async () => {
    // sys.getsizeof(bytes(1024)) = 33 + 1024 bytes; the list's slot is 8 more.
    const truth = 33 + 1024 + 8;
    const s = await measure({
      run: "python3 leak_server.py {port}",
      load: load({ requests: 480, rounds: 8 }),
      budget: { retainedPerRequest: "64 B" },
    });
    expect(s.reason).toMatch(/retained per request/);
    expect(s.status).toBe("over");
    const value = s.metrics.retainedPerRequest!.value;
    expect(Math.abs(value - truth) / truth).toBeLessThan(0.1);
    expect(s.load).toMatchObject({ leak: true, rounds: 8, warmup: 2, driver: "http" });
    expect(s.load!.perRound).toHaveLength(8);
    expect(s.metrics.p99Latency!.value).toBeGreaterThan(0);
    expect(s.metrics.throughput!.value).toBeGreaterThan(0);
    const first = s.sites?.retained?.[0];
    expect(first?.location).toBe(
      `test/fixtures/load/leak_server.py:${lineOf("leak_server.py", "the leaking line")}`,
    );
    // Sampled in the measured run (no attribution run): the function is the code's qualified name.
    expect(s.sites?.method).toBe("sampled");
    expect(first?.function).toBe("Handler.do_GET");
    // Within four standard errors of the estimate (its bytes over the same requests).
    const perRequestError = (first!.error! * first!.perRequest!) / first!.bytes;
    expect(Math.abs(first!.perRequest! - truth)).toBeLessThanOrEqual(4 * perRequestError + 0.02 * truth);
    expect(running("leak_server.py")).toEqual([]);
  });

  it("passes a bounded 100-entry cache under 64 B per request, run after run (5 runs, no false alarm)", async () => {
    for (let run = 0; run < 5; run++) {
      const s = await measure({
        run: "python3 leak_server.py {port} --bounded",
        // The cache fills during the two warm-up rounds (240 requests), then holds. (http.server's
        // own stdlib caches keep filling a little longer: a few KiB, a few bytes per request here.)
        load: load({ requests: 600, rounds: 5 }),
        budget: { retainedPerRequest: "64 B" },
      });
      expect(s.status, s.reason).toBe("pass");
      expect(s.metrics.retainedPerRequest!.value).toBeLessThan(64);
      // No false alarm: the verdict passes, and nothing is attributed.
      expect(s.sites?.retained).toBeUndefined();
    }
    // Five whole service runs: past the suite's 120 s on a loaded 2-core machine.
  }, 400_000);

  it("measures a Node.js server that keeps a 128-element array per request at ≈1,075 B (±15 %) and names the line", async () => {
    // JSArray 32 B + FixedArray 16 + 128 × 8 B, plus the list's 8-byte slot.
    const truth = 32 + 16 + 128 * 8 + 8;
    // Rounds of 600 requests keep 600 KiB each: more than V8 gives back at once on its own.
    const s = await measure({
      run: "node leak_server.mjs {port}",
      load: load({ requests: 4800, rounds: 8 }),
      budget: { retainedPerRequest: "64 B" },
    });
    expect(s.status, s.reason).toBe("over");
    const value = s.metrics.retainedPerRequest!.value;
    expect(Math.abs(value - truth) / truth, `measured ${value}`).toBeLessThan(0.15);
    // V8's sampling heap profiler names the function (the line where it starts), not the statement.
    expect(s.sites?.retained?.[0]?.location).toBe(
      `test/fixtures/load/leak_server.mjs:${lineOf("leak_server.mjs", "the leaking line")}`,
    );
    // Sampled in the measured run (V8's sampling heap profiler from the end of warm-up), as
    // Python's: no attribution run, whose sites would carry no method.
    expect(s.sites?.method).toBe("sampled");
    expect(s.sites?.interval).toBe(8 * 1024);
    const first = s.sites!.retained![0]!;
    expect(Math.abs(first.perRequest! - truth) / truth, `per request ${first.perRequest}`).toBeLessThan(0.5);
    expect(running("leak_server.mjs")).toEqual([]);
    // 4,800 requests to a Node.js server under the probe: a loaded machine takes it near 120 s.
  }, 300_000);
});

describe("load scenarios that fail", () => {
  it("ends a service that never becomes ready in error, within the ready timeout", async () => {
    const started = performance.now();
    const s = await measure({
      run: "python3 misbehaving.py {port} --never-ready",
      load: load({ requests: 60, rounds: 3, warmup: 0, readyTimeout: "5s", grace: "1s" }),
    });
    expect(s.status).toBe("error");
    expect(s.reason).toMatch(
      /^http:\/\/127\.0\.0\.1:\d+\/health was not ready after 5 s \(its last answer was 503\)$/,
    );
    expect(performance.now() - started).toBeLessThan(20_000);
    expect(running("misbehaving.py")).toEqual([]);
  });

  it("ends a service that crashes mid-load in error, saying in which round", async () => {
    const s = await measure({
      run: "python3 misbehaving.py {port} --crash-after 30",
      load: load({ requests: 60, rounds: 3, warmup: 0, concurrency: 1 }),
    });
    expect(s.status).toBe("error");
    expect(s.reason).toMatch(/^the service exited during round 2 of 3: exited with code 3$/);
    expect(running("misbehaving.py")).toEqual([]);
  });

  it("kills a service that ignores SIGTERM after the grace, and says so", async () => {
    const started = performance.now();
    const s = await measure({
      run: "python3 misbehaving.py {port} --ignore-term",
      load: load({ requests: 30, rounds: 3, warmup: 0, grace: "1s" }),
    });
    expect(s.status).toBe("error");
    expect(s.reason).toBe("stopping the service: it did not exit within 1 s of SIGTERM: killed with SIGKILL");
    expect(performance.now() - started).toBeLessThan(15_000);
    expect(running("misbehaving.py")).toEqual([]);
  });
});
