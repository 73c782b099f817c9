// When the sticky comment is created, updated or deleted, for each `comment` mode.
import { describe, expect, it } from "vitest";
import { figuresMoved, stickyAction } from "../../src/action/comment-policy.js";
import { MiB, report } from "../helpers/reports.js";

const base = report([{ name: "a", runs: [{ allocations: 100_000 }] }]);
const quiet = report([{ name: "a", runs: [{ allocations: 100_500 }], budget: { allocations: 1e6 } }], base);
// +1.5 % on a deterministic figure with a 1 % tolerance: moved, within budget, not a regression (floor).
const moved = report(
  [{ name: "a", runs: [{ allocations: 100_900 }], budget: { allocations: 1e6 }, tolerance: 0.005 }],
  base,
);
const over = report([{ name: "a", runs: [{ peakHeap: 70 * MiB }], budget: { peakHeap: 64 * MiB } }]);

describe("stickyAction", () => {
  it("always and from-report create or update whatever the figures", () => {
    for (const r of [quiet, moved, over]) {
      expect(stickyAction(r, "always")).toBe("upsert");
      expect(stickyAction(r, "from-report")).toBe("upsert");
    }
  });

  it("auto creates only when something needs attention, and otherwise only updates one already there", () => {
    expect(stickyAction(over, "auto")).toBe("upsert");
    expect(stickyAction(quiet, "auto")).toBe("update");
    expect(stickyAction(moved, "auto")).toBe("update");
  });

  it("on-change posts while a figure moved or something fails, and deletes the comment when neither is so", () => {
    expect(figuresMoved(quiet)).toBe(false);
    expect(figuresMoved(moved)).toBe(true);
    expect(stickyAction(moved, "on-change")).toBe("upsert");
    expect(stickyAction(over, "on-change")).toBe("upsert");
    expect(stickyAction(quiet, "on-change")).toBe("delete");
  });

  it("counts a new or removed scenario as a move", () => {
    const grown = report(
      [
        { name: "a", runs: [{ allocations: 100_000 }] },
        { name: "b", runs: [{ allocations: 1 }] },
      ],
      base,
    );
    expect(grown.scenarios[1]?.status).toBe("new");
    expect(figuresMoved(grown)).toBe(true);
  });
});
