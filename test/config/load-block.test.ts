// The `load` block of a budget file (docs/load.md): defaults, units, and the rules the schema
// cannot say, each reported with its place and its fix.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadPlan } from "../../src/config/plan.js";
import { BudgetFileError } from "../../src/model/errors.js";

function plan(scenario: object) {
  const dir = mkdtempSync(join(tmpdir(), "mb-load-block-"));
  const file = join(dir, "membudget.json");
  writeFileSync(
    file,
    JSON.stringify({ scenarios: { api: { run: "python3 app.py --port {port}", ...scenario } } }, null, 2),
  );
  return () => loadPlan(file);
}

function problems(scenario: object): BudgetFileError["problems"] {
  try {
    plan(scenario)();
  } catch (error) {
    expect(error).toBeInstanceOf(BudgetFileError);
    return (error as BudgetFileError).problems;
  }
  throw new Error("expected the budget file to be rejected");
}

const ready = "http://127.0.0.1:{port}/health";

describe("the load block", () => {
  it("resolves units and fills in the defaults", () => {
    const s = plan({
      load: { ready, url: "http://127.0.0.1:{port}/items/{i}", requests: "20k", readyTimeout: "1m" },
      budget: { retainedPerRequest: "64 B", p99Latency: "20ms" },
    })().scenarios[0]!;
    expect(s.load).toEqual({
      ready,
      readyTimeout: 60,
      url: "http://127.0.0.1:{port}/items/{i}",
      method: "GET",
      requests: 20_000,
      concurrency: 8,
      rounds: 10,
      warmup: 2,
      grace: 5,
    });
    expect(s.budget).toEqual({ retainedPerRequest: 64, p99Latency: 0.02 });
  });

  it("asks for exactly one driver", () => {
    expect(problems({ load: { ready, requests: 100 } })[0]).toMatchObject({
      pointer: "/scenarios/api/load",
      message: "the load block names no driver",
    });
    const both = problems({ load: { ready, requests: 100, url: ready, drive: "python3 drive.py" } });
    expect(both[0]?.message).toBe("the load block has both url and drive");
    expect(both[0]?.fix).toMatch(/give exactly one/);
  });

  it("only targets loopback addresses", () => {
    const [p] = problems({ load: { ready, requests: 100, url: "http://example.com/{i}" } });
    expect(p).toMatchObject({
      pointer: "/scenarios/api/load/url",
      message: '"http://example.com/{i}" targets example.com: the driver only targets loopback addresses',
    });
    expect(p?.line).toBeGreaterThan(1);
    expect(
      problems({ load: { ready: "https://127.0.0.1/", requests: 100, url: ready } })[0]?.message,
    ).toMatch(/uses https; the driver speaks plain http/);
  });

  it("needs three rounds after warm-up, and a request per round", () => {
    const p = problems({ load: { ready, url: ready, requests: 4, rounds: 4, warmup: 2 } });
    expect(p.map((x) => x.message)).toEqual(["4 rounds with 2 of warm-up leave 2 to fit a slope to"]);
    expect(problems({ load: { ready, url: ready, requests: 3, rounds: 5, warmup: 0 } })[0]?.message).toBe(
      "3 requests cannot be split into 5 rounds",
    );
  });

  it("rejects load metrics without a load block, and latencies with a drive command", () => {
    expect(problems({ budget: { retainedPerRequest: "64 B" } })[0]).toMatchObject({
      pointer: "/scenarios/api/budget/retainedPerRequest",
      message: "retainedPerRequest is measured only in a load scenario",
    });
    const [p] = problems({
      load: { ready, drive: "python3 drive.py", requests: 100 },
      budget: { p99Latency: "1s" },
    });
    expect(p?.message).toMatch(/^p99Latency is measured by the built-in driver only/);
  });

  it("says what a duration is when one is wrong, and that throughput takes no budget", () => {
    expect(problems({ load: { ready, url: ready, requests: 100, grace: "soon" } })[0]?.message).toBe(
      '"soon" is not a duration',
    );
    expect(problems({ budget: { throughput: "2k/s" } })[0]?.message).toBe('unknown key "throughput"');
  });
});

describe("every problem in one pass", () => {
  it("names the loopback problem together with the schema's", () => {
    const found = problems({
      load: { ready, requests: 100, url: "http://example.com/{i}", rounds: "many" },
      budget: { peakheap: "64 MiB", retainedPerRequest: "64 megs" },
    });
    expect(found.map((p) => p.pointer)).toEqual([
      "/scenarios/api/load/url",
      "/scenarios/api/load/rounds",
      "/scenarios/api/budget/peakheap",
      "/scenarios/api/budget/retainedPerRequest",
    ]);
    expect(found[0]?.message).toContain("the driver only targets loopback addresses");
    // One problem per place: "64 megs" is not a size, and not also "more than the largest size".
    expect(found.filter((p) => p.pointer.endsWith("retainedPerRequest"))).toHaveLength(1);
  });
});
