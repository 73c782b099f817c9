// Which stored base figures stand for the base here: each difference in what produced them is named.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { probeDigest } from "../../src/measure/probe-version.js";
import type { ScenarioReport, ScenarioSetup } from "../../src/model/report.js";
import { mismatch, reuseStored } from "../../src/verdict/reuse.js";
import { scenario } from "../helpers/reports.js";

const SETUP: ScenarioSetup = {
  command: "python3 hold.py",
  cwd: ".",
  env: { A: "1" },
  runtime: "python",
  interpreter: "python 3.12.1",
  platform: "linux ubuntu24 x64",
  probe: "0.1.0+0123456789ab",
  settings: { repeat: 3, cleanRun: "auto" },
};

function withSetup(
  name: string,
  setup: Partial<ScenarioSetup> | undefined,
  status?: "error",
): ScenarioReport {
  const s = scenario({ name, runs: [{ peakHeap: 100 }] });
  return {
    ...s,
    ...(status ? { status } : {}),
    ...(setup ? { setup: { ...SETUP, ...setup } } : {}),
  };
}

describe("reusing a stored base report", () => {
  it("reuses what matches in every part and measures the rest, each with why", () => {
    const head = [
      withSetup("same", {}),
      withSetup("command", { command: "python3 hold.py --more" }),
      withSetup("new", {}),
    ];
    const stored = [withSetup("same", {}), withSetup("command", {}), withSetup("gone", {})];
    const { reused, measure } = reuseStored(head, stored);
    expect([...reused.keys()]).toEqual(["same"]);
    expect(reused.get("same")).toBe(stored[0]);
    expect(Object.fromEntries(measure)).toEqual({
      command: "its command changed",
      new: "it is not in the stored report",
    });
  });

  it.each([
    [{ cwd: "sub" }, "its working directory changed (. → sub)"],
    [{ env: { A: "2", B: "x" } }, "its env changed (A, B)"],
    [{ runtime: "node" as const }, "its runtime changed (python → node)"],
    [{ interpreter: "python 3.12.3" }, "the interpreter differs (python 3.12.1 stored, python 3.12.3 here)"],
    [
      { platform: "linux ubuntu22 x64" },
      "the machine differs (linux ubuntu24 x64 stored, linux ubuntu22 x64 here)",
    ],
    [
      { probe: "0.1.1+ffffffffffff" },
      "membudget's probes differ (0.1.0+0123456789ab stored, 0.1.1+ffffffffffff here)",
    ],
    [{ settings: { repeat: 5, cleanRun: "auto" } }, "its measurement settings changed (repeat)"],
  ])("a head with %o is measured: %s", (change, why) => {
    expect(mismatch(withSetup("s", change), withSetup("s", {}))).toBe(why);
  });

  it("a stored run that failed, or a report without setups, is never reused", () => {
    expect(mismatch(withSetup("s", {}), withSetup("s", {}, "error"))).toBe("it failed in the stored run");
    expect(mismatch(withSetup("s", {}), withSetup("s", undefined))).toMatch(/an older membudget/);
  });

  it("a head that failed is matched without its interpreter (no probe said which)", () => {
    const failed = withSetup("s", { interpreter: undefined } as Partial<ScenarioSetup>, "error");
    delete failed.setup!.interpreter;
    expect(mismatch(failed, withSetup("s", {}))).toBeUndefined();
  });

  it("the build's probe digest is the one worked out from the sources", () => {
    const built = JSON.parse(
      readFileSync(new URL("../../dist/probes/version.json", import.meta.url), "utf8"),
    );
    expect(built.digest).toBe(probeDigest(new URL("../../src/measure/probes", import.meta.url).pathname));
  });
});
