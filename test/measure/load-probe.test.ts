// The load probes' hooks on real interpreters: the Python hook rides on sitecustomize's chaining
// (no edit to it, no usercustomize, no .pth), the user's own sitecustomize still runs, sys.path is
// left as it was; and the probes answer the round protocol on their sockets.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Scenario } from "../../src/config/types.js";
import { askProbes } from "../../src/measure/load/boundary.js";
import { loadProbeEnv } from "../../src/measure/load/measure.js";
import { nativeTool } from "../../src/measure/native.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function fresh(): string {
  const d = mkdtempSync(join(tmpdir(), "membudget-load-probe-"));
  dirs.push(d);
  return d;
}

function scenario(runtime: "python" | "node", user: string): Scenario {
  return {
    name: "s",
    run: "",
    runtime,
    cwd: user,
    env: { PYTHONPATH: user },
    timeout: 30,
    repeat: 1,
    tolerance: 0.02,
    sites: "never",
    cleanRun: "auto",
    budget: {},
    source: { line: 1, budgetLines: {} },
  };
}

describe("the Python load hook", () => {
  it("loads the load probe and still runs the user's sitecustomize, leaving sys.path as it was", () => {
    const out = fresh();
    const user = fresh();
    writeFileSync(
      join(user, "sitecustomize.py"),
      "import os\nopen(os.environ['MARK'], 'w').write('user ran')\n",
    );
    const env = { ...loadProbeEnv(scenario("python", user), out, "clean").env, MARK: join(out, "mark") };
    const script = [
      "import sys, os",
      "print(int('_membudget_load' in sys.modules))",
      "print([p for p in sys.path if 'probes' in p])",
      "print(os.listdir(os.environ['MEMBUDGET_OUT_DIR']))",
    ].join("\n");
    const r = spawnSync("python3", ["-c", script], { env, encoding: "utf8" });
    expect(r.stderr).toBe("");
    const [loaded, path, files] = r.stdout.trim().split("\n");
    expect(loaded).toBe("1");
    expect(path).toBe("[]");
    expect(files).toMatch(/\d+\.load\.sock/);
    expect(readFileSync(join(out, "mark"), "utf8")).toBe("user ran");
  });

  it("answers retained after gc.collect() with the interposer's live bytes, and exits on SIGTERM (even twice) through atexit", async () => {
    const out = fresh();
    const user = fresh();
    mkdirSync(join(user, "pkg"), { recursive: true });
    const env = loadProbeEnv(scenario("python", user), out, "instrumented").env;
    // 100 cyclic garbage lists of 100 KB and 100 kept bytes(10000) objects: the garbage (10 MB)
    // dwarfs what the interpreter itself keeps live (about 0.6 MB on 3.11, 1 MB on 3.14).
    const script = [
      "import time, sys",
      "kept = [bytes(10000) for _ in range(100)]",
      "for _ in range(100):",
      "    a = [bytearray(100000)]; a.append(a)",
      "del a",
      "print('ready', flush=True)",
      "time.sleep(60)",
    ].join("\n");
    const child = spawn("python3", ["-c", script], { env, stdio: ["ignore", "pipe", "pipe"] });
    await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
    const [answer] = await askProbes(out, "retained");
    expect(answer?.pid).toBe(child.pid);
    // The interposer's live bytes when it can be built here, tracemalloc's traced bytes otherwise.
    const interposer = nativeTool("mbmalloc", "shared").path !== undefined;
    expect(answer?.how).toBe(
      interposer ? "interposer-live-after-gc-collect" : "tracemalloc-traced-after-gc-collect",
    );
    // The kept objects are there (100 × 10,033 B); the cycles were collected (they would add 10 MB).
    expect(answer!.retained!).toBeGreaterThan(100 * 10_033);
    expect(answer!.retained!).toBeLessThan(100 * 10_033 + 3_000_000);
    // Twice, as rsswrap does (the group, then the tree): the second must not cut the exit short.
    child.kill("SIGTERM");
    setTimeout(() => child.kill("SIGTERM"), 5);
    const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
    expect(code).toBe(143);
    expect(readdirSync(out)).toContain(`${child.pid}.python.json`);
  });
});

describe("the Node.js load probe", () => {
  it("answers retained with the used heap after a full GC, leaving its GCs out of the figures", async () => {
    const out = fresh();
    const env = loadProbeEnv(scenario("node", fresh()), out, "instrumented").env;
    const script = [
      "const kept = Array.from({ length: 1000 }, () => new Array(128).fill(0));",
      "for (let i = 0; i < 1000; i++) { const a = [new Array(128).fill(1)]; a.push(a); }",
      "console.log('ready'); setTimeout(() => console.log(kept.length), 60000);",
    ].join("\n");
    const child = spawn(process.execPath, ["-e", script], { env, stdio: ["ignore", "pipe", "pipe"] });
    await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
    // The first questions grow the heap by the probe's own code as V8 compiles it and fills its
    // caches (measured here: +47 KB, +26–35 KB, then +1–12 KB a question), as a service's first
    // requests do: two questions warm up, as a load scenario's warm-up rounds do.
    for (let i = 0; i < 2; i++) {
      expect((await askProbes(out, "retained"))[0]?.how).toBe("v8-used-heap-after-full-gc");
    }
    const first = (await askProbes(out, "retained"))[0]!;
    const second = (await askProbes(out, "retained"))[0]!;
    // The kept arrays are there (1000 × 128 elements of 8 B at least).
    expect(first.retained!).toBeGreaterThan(1000 * 128 * 8);
    // Two full GCs in a row of an idle heap: the same live bytes within a few KiB.
    expect(Math.abs(first.retained! - second.retained!)).toBeLessThan(64 * 1024);
    // 30 more forced collections: none of them may count as the workload's.
    for (let i = 0; i < 30; i++) await askProbes(out, "retained");
    // Twice, as rsswrap does: the figures are written before the default action comes back.
    child.kill("SIGTERM");
    setTimeout(() => child.kill("SIGTERM"), 2);
    await new Promise((resolve) => child.once("exit", resolve));
    const file = JSON.parse(readFileSync(join(out, `${child.pid}.node.json`), "utf8"));
    expect(file.exit).toBe("signal");
    expect(file.figures.gcCollections).toBeLessThan(30);
  });
});
