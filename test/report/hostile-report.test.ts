// Hostile reports through `node dist/cli.js` (issue 28, item 4): each ends in the true verdict or a
// clear error with exit 2, never exit 3 (the workload-failed code) for a file membudget read, never
// a stack trace.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Report } from "../../src/model/report.js";
import { MiB, report } from "../helpers/reports.js";

const CLI = resolve("dist/cli.js");
const dir = mkdtempSync(join(tmpdir(), "membudget-hostile-report-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// `check` judges a report against the budget file: the scenario's own.
writeFileSync(
  join(dir, "membudget.json"),
  JSON.stringify({ scenarios: { a: { run: "python3 a.py", budget: { peakHeap: "1MiB" } } } }),
);

function cli(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
    timeout: 120_000,
    maxBuffer: 64 * MiB,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function write(name: string, r: Report | string): string {
  writeFileSync(join(dir, name), typeof r === "string" ? r : JSON.stringify(r));
  return name;
}

function noCrash(r: { code: number | null; stderr: string }): void {
  expect(r.stderr).not.toMatch(/internal error|RangeError|SyntaxError|\n\s+at /);
  expect(r.code).not.toBe(3);
}

const over = () =>
  report([{ name: "a", runs: [{ peakHeap: 2 * MiB, peakRss: 3 * MiB }], budget: { peakHeap: MiB } }]);

describe("hostile reports", () => {
  it("a node id of 70,000 characters: judged (over its budget), no regular expression too large", () => {
    const r = over();
    const s = r.scenarios[0]!;
    s.tests = [
      {
        id: `tests/test_x.py::test_${"t".repeat(70_000)}`,
        outcome: "passed",
        status: "pass",
        metrics: {
          peakHeap: {
            value: 20,
            min: 20,
            max: 20,
            spread: 0,
            runs: 1,
            kind: "exact",
            deterministic: true,
            status: "pass",
            budget: 10,
          },
        },
      },
    ];
    s.testSummary = { total: 1, over: 0, regressed: 0, new: 0, removed: 0 };
    // The rules the judgement applied, as the report keeps them: the node id itself and a glob as long.
    s.applied = {
      budget: { peakHeap: MiB },
      tests: [
        { pattern: s.tests[0]!.id, budget: { peakHeap: 10 }, line: 4 },
        { pattern: `tests/*${"t".repeat(60_000)}?`, budget: { peakHeap: 15 }, line: 5 },
      ],
    };
    const file = write("long-id.json", r);
    for (const args of [
      ["compare", file, file, "--report", "c.json"],
      ["merge", file, "-o", "m.json"],
      ["check", file],
    ]) {
      const run = cli(...args);
      noCrash(run);
      expect(run.code, `${args[0]}: ${run.stderr}`).toBe(1);
    }
    // Judged again by compare against the rules the report kept: the test is over its own.
    const compared = JSON.parse(readFileSync(join(dir, "c.json"), "utf8")) as Report;
    expect(compared.scenarios[0]!.tests![0]!.status).toBe("over");
    expect(compared.scenarios[0]!.tests![0]!.metrics.peakHeap!.budget).toBe(10);
  });

  it("a timeline of 200,000 points: the comment and the SVG chart are written, no stack overflow", () => {
    const r = over();
    r.scenarios[0]!.timeline = Array.from({ length: 200_000 }, (_, i) => ({
      t: i / 1000,
      rss: i * 100,
      heap: i,
    }));
    const file = write("timeline.json", r);
    for (const args of [
      ["check", file, "--markdown", "c.md", "--chart", "charts"],
      ["merge", file, "-o", "t.json", "--markdown", "e.md"],
    ]) {
      const run = cli(...args);
      noCrash(run);
      expect(run.code, `${args[0]}: ${run.stderr}`).toBe(1);
    }
    expect(readFileSync(join(dir, "c.md"), "utf8")).toContain("```mermaid");
  });

  it("an array nested 5,000 deep in an open object: exit 2 naming where", () => {
    const text = JSON.stringify(over()).replace(
      '"environment":{',
      `"environment":{"x":${"[".repeat(5000)}${"]".repeat(5000)},`,
    );
    const file = write("deep.json", text);
    for (const args of [
      ["merge", file, "-o", "x.json"],
      ["check", file],
      ["compare", file, file],
    ]) {
      const run = cli(...args);
      noCrash(run);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/at \/environment\/x\/0\/0\/.*nests deeper than 64 levels/);
    }
  });

  it("1e309 and -1e309 (Infinity once parsed): exit 2 naming the figure, never a pass", () => {
    for (const literal of ["1e309", "-1e309"]) {
      const text = JSON.stringify(over()).replace(/"value":\d+/, `"value":${literal}`);
      const file = write("inf.json", text);
      const run = cli("check", file);
      noCrash(run);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain("/scenarios/0/metrics/peakHeap/value is a number too large for a figure");
    }
  });
});
