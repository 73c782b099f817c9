// A probe that cannot run here: every metric it would give is in the report as unavailable, with
// the reason, and in the terminal and markdown tables, never silently absent. Real runs: a C
// compiler that does not exist (a fresh cache, so nothing prebuilt), and an allocator listed
// before the interposer in LD_PRELOAD.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parsePlan } from "../../src/config/plan.js";
import { select } from "../../src/config/select.js";
import { runPlan } from "../../src/engine/engine.js";
import type { Report } from "../../src/model/report.js";
import { renderMarkdown } from "../../src/render/markdown.js";
import { renderTerminal } from "../../src/render/terminal.js";
import { reportValidator } from "../../src/report/validator.js";
import { restoreEnvAfterAll } from "../helpers/env.js";

const WORKLOADS = fileURLToPath(new URL("../fixtures/workloads/python/", import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), "membudget-unavailable-"));
restoreEnvAfterAll(["CC", "MEMBUDGET_CACHE_DIR"]);
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

const python = spawnSync("python3", ["-c", "import sys; print(sys.executable)"], {
  encoding: "utf8",
}).stdout.trim();

function plan(scenarios: Record<string, unknown>) {
  const file = join(scratch, `membudget-${Object.keys(scenarios).join("-")}.json`);
  const text = JSON.stringify({ defaults: { repeat: 1, sites: "never" }, scenarios }, null, 2);
  writeFileSync(file, text);
  return parsePlan(text, file, file);
}

function expectValid(report: Report): void {
  const validate = reportValidator();
  expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
}

describe("without a C compiler", () => {
  let report: Report;
  beforeAll(async () => {
    // Read when the helpers are first built: this file's module instance has built none yet.
    process.env["CC"] = join(scratch, "no-such-cc");
    process.env["MEMBUDGET_CACHE_DIR"] = join(scratch, "cache");
    report = await runPlan({
      selection: select(
        plan({
          loop: { run: `"${python}" churn.py 20000`, cwd: WORKLOADS, cleanRun: "always" },
          gated: { run: `"${python}" churn.py 20000`, cwd: WORKLOADS, budget: { allocated: "100MiB" } },
        }),
      ),
    });
  }, 120_000);

  it("records allocated, allocations and allocationRate as unavailable, with the compiler's absence as why", () => {
    expectValid(report);
    const loop = report.scenarios.find((s) => s.name === "loop")!;
    expect(loop.status).not.toBe("error");
    for (const metric of ["allocated", "allocations", "allocationRate"] as const) {
      expect(loop.metrics[metric]).toBeUndefined();
      expect(loop.unavailable?.[metric]).toMatch(/no C compiler \(.*no-such-cc/);
    }
    // tracemalloc still gives the heap; peak RSS is sampled without rsswrap.
    expect(loop.metrics.peakHeap?.value).toBeGreaterThan(0);
    expect(loop.metrics.peakRss?.value).toBeGreaterThan(0);
    expect(report.notes?.join("\n")).toMatch(/allocation totals unavailable: no C compiler/);
  });

  it("makes a budget on an unmeasurable metric an error that says why", () => {
    const gated = report.scenarios.find((s) => s.name === "gated")!;
    expect(gated.status).toBe("error");
    expect(gated.reason).toMatch(/allocated \(no C compiler/);
  });

  it("shows every such metric as unavailable, with why, in the terminal table and the comment", () => {
    const terminal = renderTerminal(report, { colour: false });
    for (const label of ["allocated", "allocations", "allocation rate"]) {
      expect(terminal).toMatch(new RegExp(`^(loop|gated)?\\s+${label}\\s+unavailable\\s`, "m"));
    }
    expect(terminal).toMatch(/allocated, allocations, allocation rate unavailable: no C compiler/);
    // Only what the probes failed to give: Node.js's external heap is not a Python figure.
    expect(terminal).not.toMatch(/peak external/);
    const markdown = renderMarkdown(report);
    expect(markdown).toMatch(
      /\| \*\*loop\*\* \| allocation rate \| _unavailable_ \| — \| unavailable: no C compiler/,
    );
    expect(markdown).toMatch(
      /\| \*\*gated\*\* \| allocated \| _unavailable_ \| — \| unavailable: no C compiler/,
    );
    // --all lists the metrics a runtime never gives too, each with its reason.
    expect(renderTerminal(report, { colour: false, all: true })).toMatch(
      /peak external unavailable: only Node\.js has an external heap/,
    );
  });
});
