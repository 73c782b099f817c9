// attributeSites on its own: which scenarios of a judged report get the attribution run (one more
// run of a real python3 workload each), what it adds, and what it leaves as it was.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { parsePlan } from "../../src/config/plan.js";
import { attributeSites } from "../../src/engine/engine.js";
import type { Report } from "../../src/model/report.js";
import { MiB, report } from "../helpers/reports.js";

const WORKLOADS = fileURLToPath(new URL("../fixtures/workloads/sites/", import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), "membudget-attribute-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const counter = (name: string) => join(scratch, `${name}.count`);
const runs = (name: string) => {
  try {
    return readFileSync(counter(name), "utf8").split("\n").filter(Boolean).length;
  } catch {
    return 0;
  }
};

/** Five scenarios of one workload, each counting its runs; `sites` as given. */
function plan() {
  const entry = (name: string, sites = "auto") => [
    name,
    { run: `python3 culprit.py 5 ${counter(name)}`, cwd: WORKLOADS, repeat: 1, sites },
  ];
  const text = JSON.stringify({
    scenarios: Object.fromEntries([
      entry("over"),
      entry("pass"),
      entry("never", "never"),
      entry("failed"),
      entry("always", "always"),
    ]),
  });
  const file = join(scratch, "membudget.json");
  writeFileSync(file, text);
  return parsePlan(text, file, file);
}

/** The judged report as the engine would hand it over: statuses set, no sites yet. */
function judged(): Report {
  return report([
    { name: "over", runs: [{ peakHeap: 60 * MiB }], budget: { peakHeap: MiB } },
    { name: "pass", runs: [{ peakHeap: 60 * MiB }], budget: { peakHeap: 100 * MiB } },
    { name: "never", runs: [{ peakHeap: 60 * MiB }], budget: { peakHeap: MiB } },
    { name: "failed", runs: [{ peakHeap: 60 * MiB }], error: "exited with code 1" },
    { name: "always", runs: [{ peakHeap: 60 * MiB }], budget: { peakHeap: 100 * MiB } },
  ]);
}

describe("attributeSites", () => {
  it("runs the scenarios their `sites` setting asks for given their status, and no other", async () => {
    const before = judged();
    expect(before.scenarios.map((s) => s.status)).toEqual(["over", "pass", "over", "error", "pass"]);
    const after = await attributeSites(plan(), before);
    expect(["over", "pass", "never", "failed", "always"].map(runs)).toEqual([1, 0, 0, 0, 1]);
    const [over, pass, never, failed, always] = after.scenarios;
    expect(over?.sites?.peak?.[0]).toMatchObject({
      location: "test/fixtures/workloads/sites/culprit.py:10",
      function: "build_catalog",
    });
    expect(always?.sites?.peak?.[0]?.location).toBe("test/fixtures/workloads/sites/culprit.py:10");
    // Figures and statuses stay the judged run's; the others are handed back as they were.
    expect(over?.metrics).toEqual(before.scenarios[0]?.metrics);
    expect(over?.status).toBe("over");
    expect([pass, never, failed]).toEqual(before.scenarios.slice(1, 4));
  });

  it("runs exactly the scenarios named, and diffs their sites against the base's", async () => {
    const base = judged();
    base.scenarios[1]!.sites = {
      peak: [
        { location: "test/fixtures/workloads/sites/culprit.py:10", function: "build_catalog", bytes: MiB },
      ],
    };
    const before = runs("pass");
    const after = await attributeSites(plan(), judged(), { scenarios: ["pass", "never"], base });
    // "never" is never attributed, even when named.
    expect(runs("pass") - before).toBe(1);
    expect(runs("never")).toBe(0);
    const pass = after.scenarios[1]!;
    expect(pass.sites?.diffOf).toBe("peak");
    expect(pass.sites?.diff?.[0]).toMatchObject({
      location: "test/fixtures/workloads/sites/culprit.py:10",
      baseBytes: MiB,
    });
    expect(pass.sites!.diff![0]!.bytes).toBeGreaterThan(40 * MiB);
  });
});
