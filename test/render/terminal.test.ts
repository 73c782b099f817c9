// The terminal table on its own: what `membudget run` prints, from a Report alone.
import { describe, expect, it } from "vitest";
import { leftoverNote } from "../../src/measure/process/leftovers.js";
import { renderTerminal, wantsColour } from "../../src/render/terminal.js";
import { MiB, report } from "../helpers/reports.js";

describe("terminal table", () => {
  const base = report([
    { name: "load-catalog", runs: [{ peakHeap: 48 * MiB }], budget: { peakHeap: 64 * MiB } },
    { name: "parse", runs: [{ peakHeap: 10 * MiB }], budget: { peakHeap: 16 * MiB } },
  ]);
  const head = report(
    [
      { name: "load-catalog", runs: [{ peakHeap: 66.24 * MiB }], budget: { peakHeap: 64 * MiB } },
      { name: "parse", runs: [{ peakHeap: 10 * MiB }], budget: { peakHeap: 16 * MiB } },
    ],
    base,
  );

  it("lists the worst scenario first, base against head, and ends with the verdict", () => {
    const lines = renderTerminal(head, { colour: false }).trimEnd().split("\n");
    expect(lines[0]).toMatch(/^scenario\s+metric\s+base\s+head\s+change\s+budget\s+status$/);
    expect(lines[1]).toMatch(
      /^load-catalog\s+peak heap\s+48\.0 MiB\s+66\.2 MiB\s+\+38\.0%\s+64\.0 MiB\s+over budget$/,
    );
    expect(lines[2]).toMatch(/^parse\s+peak heap\s+10\.0 MiB\s+10\.0 MiB\s+±0%\s+16\.0 MiB\s+pass$/);
    expect(lines.at(-1)).toBe("1 of 2 scenarios over budget");
  });

  it("colours only the status words, and only when asked", () => {
    expect(renderTerminal(head, { colour: false })).not.toContain("\x1b[");
    const coloured = renderTerminal(head, { colour: true });
    expect(coloured).toContain("\x1b[31mover budget\x1b[0m");
    expect(coloured).not.toMatch(/\x1b\[[0-9;]*mload-catalog/);
    expect(wantsColour({ isTTY: true }, { TERM: "xterm" })).toBe(true);
    expect(wantsColour({ isTTY: true }, { NO_COLOR: "1" })).toBe(false);
    expect(wantsColour({ isTTY: false }, {})).toBe(false);
    expect(wantsColour({ isTTY: false }, { FORCE_COLOR: "1" })).toBe(true);
  });

  it("without a base: value and the runs' range; every metric with --all, the budgeted ones without", () => {
    const alone = report([
      {
        name: "noisy",
        runs: [
          { peakHeap: 10 * MiB, allocated: 30 * MiB },
          { peakHeap: 12 * MiB, allocated: 30 * MiB },
        ],
        budget: { peakHeap: 16 * MiB },
      },
    ]);
    const text = renderTerminal(alone, { colour: false });
    expect(text.split("\n")[0]).toMatch(/^scenario\s+metric\s+value\s+min … max\s+budget\s+status$/);
    expect(text).toMatch(/noisy\s+peak heap\s+11\.0 MiB\s+10\.0 MiB … 12\.0 MiB\s+16\.0 MiB\s+pass/);
    expect(text).not.toContain("allocated");
    expect(renderTerminal(alone, { colour: false, all: true })).toMatch(/allocated\s+30\.0 MiB/);
  });

  it("says why a budgeted metric has no figure, and shows the end of a failed workload's output", () => {
    const r = report([
      { name: "crash", runs: [{ peakHeap: MiB }], error: "exited with code 1" },
      { name: "ext", runs: [{ peakHeap: MiB }] },
    ]);
    r.scenarios[0]!.runs[0]!.stderrTail = "Traceback (most recent call last):\nMemoryError\n";
    r.scenarios[1]!.unavailable = { peakExternal: "only Node.js has an external heap" };
    r.scenarios[1]!.applied = { budget: { peakExternal: MiB } };
    const text = renderTerminal(r, { colour: false });
    expect(text).toMatch(/ext\s+peak external\s+unavailable\s+—\s+n\/a/);
    expect(text).toContain("\n  peak external unavailable: only Node.js has an external heap\n");
    expect(text).toContain(
      "crash: exited with code 1\n  │ Traceback (most recent call last):\n  │ MemoryError\n",
    );
    // Not budgeted, a metric the runtime never gives is left out (it would be a row on every scenario).
    delete r.scenarios[1]!.applied;
    r.scenarios[1]!.source = { line: 3, budgetLines: {} };
    expect(renderTerminal(r, { colour: false })).not.toContain("peak external");
  });

  it("names the sites that grew most under a scenario that needs attention", () => {
    const r = report([{ name: "grew", runs: [{ peakHeap: 20 * MiB }], budget: { peakHeap: 16 * MiB } }]);
    r.scenarios[0]!.sites = {
      peak: [],
      diff: [
        { location: "app.py:10", function: "load", bytes: 9 * MiB, baseBytes: 4 * MiB },
        { location: "app.py:40", function: "fresh", bytes: MiB, baseBytes: 0 },
      ],
      diffOf: "peak",
    };
    const text = renderTerminal(r, { colour: false });
    expect(text).toContain("  sites that grew most against the base:");
    expect(text).toMatch(/\+5\.0 MiB\s+9\.0 MiB\s+app\.py:10 {2}load \(from 4\.0 MiB\)/);
    expect(text).toMatch(/new\s+1\.0 MiB\s+app\.py:40 {2}fresh/);
  });

  it("shows membudget's longest note whole, each quoted command cut in the middle, and cuts a forged one", () => {
    // 16 processes named (rsswrap's most), each with a command line of 10,000 characters.
    const named = Array.from({ length: 16 }, (_, i) => ({
      pid: 4_000_000 + i,
      command: `/usr/bin/python3 ${"x".repeat(10_000)} marker-${i}`,
    }));
    const note = leftoverNote({ count: 20, named, killed: true }, 5000);
    expect(note).toMatch(
      /^the command left 20 processes running when it ended: pid 4000000 `\/usr\/bin\/python3 x+…x+ marker-0`, /,
    );
    expect(note).toMatch(/, 4 more; stopped them with SIGTERM, then SIGKILL after the 5 s grace$/);
    const r = report([{ name: "daemon", runs: [{ peakHeap: MiB }] }]);
    r.notes = [note, `forged ${"y".repeat(60_000)}`];
    const lines = renderTerminal(r, { colour: false }).trimEnd().split("\n");
    expect(lines).toContain(`note: ${note}`);
    const forged = lines.find((l) => l.startsWith("note: forged"));
    expect(forged?.length).toBeLessThan(6000);
    expect(forged).toMatch(/…$/);
  });
});
