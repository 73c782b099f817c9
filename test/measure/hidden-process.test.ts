// A workload cannot hide its memory from the probes (issue 28, item 1): a Python child started
// without the probe (a cleared environment, PYTHONPATH or LD_PRELOAD removed), a figure file
// deleted, or rewritten after its process ended, leaves the heap figures unavailable with the
// process named, never a smaller figure that passes. Real python3 and sh processes, under rsswrap.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { Scenario } from "../../src/config/types.js";
import { measureScenario } from "../../src/measure/scenario.js";
import type { Run } from "../../src/measure/types.js";

const MiB = 2 ** 20;
const SLOW = 120_000;
const dir = mkdtempSync(join(tmpdir(), "membudget-hidden-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const python = spawnSync("python3", ["-c", "import sys; print(sys.executable)"], {
  encoding: "utf8",
}).stdout.trim();

function scenario(run: string, runtime: Scenario["runtime"] = "python"): Scenario {
  return {
    name: "s",
    run,
    runtime,
    cwd: dir,
    env: {},
    timeout: 60,
    repeat: 1,
    tolerance: 0.02,
    sites: "never",
    cleanRun: "auto",
    budget: { peakHeap: 10 * MiB },
    source: { line: 1, budgetLines: {} },
  };
}

function script(name: string, text: string): string {
  writeFileSync(join(dir, name), text);
  return join(dir, name);
}

async function probedRun(run: string, runtime: Scenario["runtime"] = "python"): Promise<Run> {
  const { runs } = await measureScenario(scenario(run, runtime));
  const probed = runs.find((r) => r.instrumented);
  expect(probed).toBeDefined();
  return probed!;
}

/** The run gives no heap figure and says which process made it incomplete. */
function expectHidden(run: Run, why: RegExp): void {
  expect(run.figures.peakHeap, JSON.stringify(run.figures)).toBeUndefined();
  expect(run.unavailable?.peakHeap).toMatch(/^incomplete: /);
  expect(run.unavailable?.peakHeap).toMatch(why);
}

const BIG = "x = bytearray(64 << 20)";

describe("a process that ran Python without the probe", () => {
  it(
    "a child started with a cleared environment (the issue's reproduction)",
    async () => {
      const main = script(
        "cleared.py",
        `import subprocess, sys\nsubprocess.run([sys.executable, "-c", ${JSON.stringify(BIG)}], env={"PATH": "/usr/bin:/bin"})\n`,
      );
      const run = await probedRun(`"${python}" ${main}`);
      expectHidden(run, /process \d+ \(python3[^)]*\) left no figures/);
    },
    SLOW,
  );

  it(
    "env -u PYTHONPATH -u LD_PRELOAD python3 big.py, started by the workload's shell",
    async () => {
      const big = script("big.py", `${BIG}\n`);
      const main = script(
        "unset.py",
        `import os\nos.system("env -u PYTHONPATH -u LD_PRELOAD ${python} ${big}")\n`,
      );
      const run = await probedRun(`"${python}" ${main}`);
      expectHidden(run, /process \d+ \(python3[^)]*\) left no figures/);
    },
    SLOW,
  );

  it(
    "an orphaned child (reaped by rsswrap, not its parent)",
    async () => {
      const big = script("orphan-big.py", `import time\n${BIG}\ntime.sleep(0.2)\n`);
      const main = script(
        "orphan.py",
        `import subprocess\nsubprocess.Popen(["${python}", "${big}"], env={"PATH": "/usr/bin:/bin"})\n`,
      );
      const run = await probedRun(`"${python}" ${main}`);
      expectHidden(run, /process \d+ \(python3[^)]*\) left no figures/);
    },
    SLOW,
  );

  it(
    "the same workload with its environment kept is measured whole (the control)",
    async () => {
      const main = script(
        "kept.py",
        `import subprocess, sys\nsubprocess.run([sys.executable, "-c", ${JSON.stringify(BIG)}])\n`,
      );
      const run = await probedRun(`"${python}" ${main}`);
      expect(run.unavailable?.peakHeap).toBeUndefined();
      expect(run.figures.peakHeap).toBeGreaterThan(64 * MiB);
    },
    SLOW,
  );
});

describe("figure files changed by the workload", () => {
  it(
    "a child's files deleted by its parent",
    async () => {
      const main = script(
        "delete.py",
        [
          "import glob, os, subprocess, sys",
          `child = subprocess.Popen([sys.executable, "-c", ${JSON.stringify(BIG)}])`,
          "child.wait()",
          'for f in glob.glob(os.path.join(os.environ["MEMBUDGET_OUT_DIR"], "%d.*" % child.pid)): os.remove(f)',
          "",
        ].join("\n"),
      );
      const run = await probedRun(`"${python}" ${main}`);
      expectHidden(run, /process \d+ \(python3[^)]*\) left no figures|was deleted or rewritten/);
    },
    SLOW,
  );

  for (const [what, tail] of [
    ["reaped by rsswrap", ""],
    ["reaped by the workload's shell", "; true"],
  ] as const) {
    it(
      `a background child rewrites the main process's file after it exited (${what})`,
      async () => {
        // The small figures of a probed no-op, copied over the big process's own once it is gone.
        const main = script(
          "rewrite.py",
          [
            "import os, subprocess, sys",
            "out = os.environ['MEMBUDGET_OUT_DIR']",
            `small = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True).stdout.strip()`,
            "me = os.getpid()",
            `subprocess.Popen(["sh", "-c", "while kill -0 %d 2>/dev/null; do sleep 0.02; done; sleep 0.1; cp %s/%s.python.json %s/%d.python.json.new; mv %s/%d.python.json.new %s/%d.python.json" % (me, out, small, out, me, out, me, out, me)], start_new_session=True)`,
            BIG,
            "",
          ].join("\n"),
        );
        const run = await probedRun(`"${python}" ${main}${tail}`);
        expectHidden(
          run,
          /the figure file \d+\.python\.json of process \d+ \(python3[^)]*\) was deleted or rewritten/,
        );
      },
      SLOW,
    );
  }

  it(
    "a native program's malloc figures rewritten after it exited",
    async () => {
      const run = await probedRun(
        `(while kill -0 $$ 2>/dev/null; do sleep 0.02; done; echo '{"probe":"malloc","pid":'$$',"figures":{"peakHeap":1}}' > "$MEMBUDGET_OUT_DIR/$$.malloc.json") & exit 0`,
        "native",
      );
      expectHidden(
        run,
        /the figure file \d+\.malloc\.json of process \d+ \([^)]*\) was deleted or rewritten/,
      );
    },
    SLOW,
  );
});
