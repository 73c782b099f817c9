// The engine both adapters share, on real python3 workloads: a budget file in, a judged report out.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { loadPlan } from "../../src/config/plan.js";
import { select } from "../../src/config/select.js";
import { runPlan } from "../../src/engine/engine.js";

const MiB = 1024 * 1024;
const HOLD = fileURLToPath(new URL("../fixtures/workloads/cli/hold.py", import.meta.url));

/** The budget file, one key a line (so that a line number in the report can be wrong), and its Plan. */
function plan(scenarios: Record<string, unknown>) {
  const dir = mkdtempSync(join(tmpdir(), "membudget-engine-"));
  const text = JSON.stringify({ scenarios }, null, 2);
  writeFileSync(join(dir, "membudget.json"), text);
  return { ...loadPlan(join(dir, "membudget.json")), text };
}

const lineOf = (text: string, needle: string) => text.slice(0, text.indexOf(needle)).split("\n").length;

describe("runPlan", () => {
  it("measures each scenario once per repeat and judges it against the budget file's budgets", async () => {
    const p = plan({
      small: { run: `python3 ${HOLD} 8`, repeat: 1, budget: { peakHeap: "16 MiB" } },
      large: { run: `python3 ${HOLD} 24`, repeat: 2, budget: { peakHeap: "16 MiB" } },
    });
    const report = await runPlan({ selection: select(p), provenance: { commit: "a".repeat(40) } });
    const [small, large] = report.scenarios;
    expect(small?.status).toBe("pass");
    expect(large?.status).toBe("over");
    // The budget is on the figure once, from the budget file; the figure is the held block within 1 %.
    expect(small?.metrics.peakHeap?.budget).toBe(16 * MiB);
    expect(Math.abs((small?.metrics.peakHeap?.value ?? 0) / (8 * MiB) - 1)).toBeLessThan(0.01);
    expect(large?.runs.length).toBeGreaterThanOrEqual(2);
    expect(report.status).toBe("over");
    expect(report.summary).toBe("1 of 2 scenarios over budget");
    expect(report.commit).toBe("a".repeat(40));
    // Annotations point at the budget's own line: small's "peakHeap", not large's or the scenario's.
    expect(small?.source?.budgetLines.peakHeap).toBe(lineOf(p.text, '"peakHeap"'));
    expect(large?.source?.budgetLines.peakHeap).toBe(
      lineOf(p.text, '"large"') + lineOf(p.text.slice(p.text.indexOf('"large"')), '"peakHeap"') - 1,
    );
    expect(report.budgetDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it("says why a metric the runtime's probes cannot give is missing, and errors when it is budgeted", async () => {
    const p = plan({ ext: { run: `python3 ${HOLD} 1`, repeat: 1, budget: { peakExternal: "1 MiB" } } });
    const [s] = (await runPlan({ selection: select(p) })).scenarios;
    expect(s?.unavailable?.peakExternal).toBe("only Node.js has an external heap");
    expect(s?.status).toBe("error");
    expect(s?.reason).toBe(
      "budgeted but not measurable here: peakExternal (only Node.js has an external heap)",
    );
  });

  it("a workload that fails is an error with its reason, and the others are still measured", async () => {
    const p = plan({
      crash: { run: "python3 -c 'raise SystemExit(4)'", repeat: 1 },
      fine: { run: `python3 ${HOLD} 1`, repeat: 1 },
    });
    const report = await runPlan({ selection: select(p) });
    expect(report.scenarios.map((s) => s.status)).toEqual(["error", "pass"]);
    expect(report.scenarios[0]?.reason).toBe("exited with code 4");
    expect(report.summary).toBe("1 of 2 scenarios failed to run");
  });
});
