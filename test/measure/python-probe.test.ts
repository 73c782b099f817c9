// Ground truth for the Python probe: real python3 runs of the workloads in
// test/fixtures/workloads/python, with the environment probeEnv gives the runner.
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { probeFile } from "../../src/measure/probe-files.js";
import { mergeProcessFigures, probeEnv, readProbeFiles } from "../../src/measure/probes.js";
import type { ProcessFigures } from "../../src/measure/types.js";

const WORKLOADS = fileURLToPath(new URL("../fixtures/workloads/python/", import.meta.url));
const MiB = 1024 * 1024;
const SLOW = 120_000;
// A million tuples: a free-threaded 3.13 takes ~40 s a run on a loaded machine, probed or not.
const SLOWER = 300_000;

let python = "";
const scratch = mkdtempSync(join(tmpdir(), "membudget-python-probe-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

beforeAll(() => {
  // The real interpreter, not a shim script (pyenv's is bash): faster, and what a runner sees.
  python = spawnSync("python3", ["-c", "import sys; print(sys.executable)"], {
    encoding: "utf8",
  }).stdout.trim();
  expect(python).not.toBe("");
  // The probe's code in the cache for this interpreter before any two runs are compared: a run
  // that compiled it may count one allocation apart (its own test below), and on a fresh machine
  // (CI) the first run of the suite would.
  expect(probed(["-c", "pass"]).status).toBe(0);
});

/** The user's environment, without anything a probe sets. */
function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const key of ["MEMBUDGET_OUT_DIR", "MEMBUDGET_TRACEMALLOC", "PYTHONMALLOC", "LD_PRELOAD"]) {
    if (!(key in extra)) delete env[key];
  }
  return env;
}

let runs = 0;

interface ProbedRun {
  status: number | null;
  stdout: string;
  stderr: string;
  files: ProcessFigures[];
  problems: string[];
  notes: string[];
  merged: ReturnType<typeof mergeProcessFigures>;
}

function probed(
  args: string[],
  options: { allocations?: boolean; env?: NodeJS.ProcessEnv; command?: string; removeOutDir?: boolean } = {},
): ProbedRun {
  const outDir = join(scratch, `run-${++runs}`);
  mkdirSync(outDir);
  const base = userEnv(options.env);
  const probe = probeEnv("python", outDir, base, { allocations: options.allocations ?? true });
  if (options.removeOutDir) rmSync(outDir, { recursive: true });
  const result = spawnSync(options.command ?? python, args, {
    cwd: WORKLOADS,
    env: { ...base, ...probe.env },
    encoding: "utf8",
  });
  const problems: string[] = [];
  const files = readProbeFiles(outDir, (message) => problems.push(message));
  return {
    status: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
    files,
    problems,
    notes: probe.notes,
    merged: mergeProcessFigures(files, "python"),
  };
}

function bare(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(python, args, { cwd: WORKLOADS, env: userEnv(env), encoding: "utf8" });
}

let version: number[] | undefined;
/** Whether the interpreter under test is CPython major.minor.micro or later. */
function pythonAtLeast(...wanted: number[]): boolean {
  version ??= bare(["-c", "import sys; print(*sys.version_info[:3])"]).stdout.trim().split(" ").map(Number);
  for (let i = 0; i < wanted.length; i++) {
    if ((version[i] ?? 0) !== wanted[i]) return (version[i] ?? 0) > (wanted[i] ?? 0);
  }
  return true;
}

let freeThreadedBuild: boolean | undefined;
/** Whether the interpreter under test is a free-threaded build (3.13t and later). */
function freeThreaded(): boolean {
  freeThreadedBuild ??=
    bare(["-c", "import sys; print('t' in getattr(sys, 'abiflags', ''))"]).stdout.trim() === "True";
  return freeThreadedBuild;
}

/**
 * How far two runs of the same deterministic workload may read apart on the interpreter under test:
 * what each version does by itself, with no probe change between runs (the interpreter's own
 * allocations differ). Exact on 3.11, 3.12 and 3.13.0; 3.8, 3.9 and 3.10 (pyenv) read `allocated` a
 * few bytes apart in some runs, with the same peak and number of allocations; CPython 3.13.18 read a
 * few bytes more peak in a few runs of many, 3.14 two more allocations.
 */
function runToRunJitter(): { peakHeap: number; allocations: number; allocated: number } {
  // The free-threaded build frees some memory late (at quiescent points), so its peak moves by
  // itself: tracemalloc alone, no probe, read `churn.py 30000`'s peak over 1,185,140-1,185,614 B in
  // 20 runs of 3.13.5t (the GIL build 1,066,177-1,066,330); the probe read 76 B apart in 3 of 5 runs.
  if (freeThreaded()) return { peakHeap: 256, allocations: 2, allocated: 64 };
  if (pythonAtLeast(3, 13, 1)) return { peakHeap: 16, allocations: 2, allocated: 64 };
  if (!pythonAtLeast(3, 11)) return { peakHeap: 0, allocations: 0, allocated: 16 };
  return { peakHeap: 0, allocations: 0, allocated: 0 };
}

/** Two runs' figures agree within what the interpreter reads apart by itself (runToRunJitter). */
function expectSameCounts(
  other: { peakHeap?: number; allocations?: number; allocated?: number },
  first: { peakHeap?: number; allocations?: number; allocated?: number },
): void {
  const jitter = runToRunJitter();
  for (const key of ["peakHeap", "allocations", "allocated"] as const) {
    const diff = Math.abs((other[key] ?? Number.NaN) - (first[key] ?? Number.NaN));
    expect(diff, `${key}: ${other[key]} against ${first[key]}`).toBeLessThanOrEqual(jitter[key]);
  }
}

function within(actual: number | undefined, expected: number, fraction: number): void {
  expect(actual).toBeTypeOf("number");
  expect(Math.abs((actual as number) - expected)).toBeLessThanOrEqual(expected * fraction);
}

describe("probeEnv for Python", () => {
  it("puts the probe first on PYTHONPATH, keeps the user's path, and preloads the interposer", () => {
    const { env, notes } = probeEnv("python", "/out", {
      PYTHONPATH: ["/a", "/b"].join(delimiter),
      LD_PRELOAD: "/x.so",
    });
    const path = (env["PYTHONPATH"] ?? "").split(delimiter);
    expect(path[0]).toMatch(/probes[/\\]python$/);
    expect(path.slice(1)).toEqual(["/a", "/b"]);
    expect(env["MEMBUDGET_OUT_DIR"]).toBe("/out");
    // pymalloc stays: the probe wraps it rather than turning it off.
    expect(env["PYTHONMALLOC"]).toBeUndefined();
    expect(env["LD_PRELOAD"]).toMatch(/^\/x\.so:.*libmbmalloc\.so$/);
    expect(notes).toEqual([]);
  });

  it("without the allocation probe, leaves the allocator alone and says what is missing", () => {
    const { env, notes } = probeEnv("python", "/out", {}, { allocations: false });
    expect(env["LD_PRELOAD"]).toBeUndefined();
    expect(env["PYTHONMALLOC"]).toBeUndefined();
    expect(notes.join("\n")).toMatch(/allocation totals unavailable/);
  });
});

describe("the Python probe on ground-truth workloads", () => {
  it(
    "measures a 100 MiB bytearray's peak within 1 %",
    () => {
      const run = probed(["hold_bytearray.py"]);
      expect(run.status).toBe(0);
      expect(run.problems).toEqual([]);
      expect(run.files.map((f) => f.probe).sort()).toEqual(["malloc", "python"]);
      within(run.merged.figures.peakHeap, 100 * MiB, 0.01);
      expect(run.merged.figures.allocated).toBeGreaterThanOrEqual(100 * MiB);
    },
    SLOW,
  );

  it(
    "falls back to tracemalloc for peakHeap without the interposer, and leaves the totals absent",
    () => {
      const run = probed(["hold_bytearray.py"], { allocations: false });
      expect(run.status).toBe(0);
      expect(run.files.map((f) => f.probe)).toEqual(["python"]);
      within(run.merged.figures.peakHeap, 100 * MiB, 0.01);
      expect(run.merged.figures.allocated).toBeUndefined();
      expect(run.merged.figures.allocations).toBeUndefined();
    },
    SLOW,
  );

  it(
    "agrees within 1 % with tracemalloc alone on a list of 1,000,000 tuples",
    () => {
      const referee = bare(["tuples.py", "1000000", "--tracemalloc"]);
      expect(referee.status).toBe(0);
      const tracemallocPeak = Number(referee.stdout.trim());
      expect(tracemallocPeak).toBeGreaterThan(1_000_000 * 56);
      const run = probed(["tuples.py", "1000000"]);
      within(run.merged.figures.peakHeap, tracemallocPeak, 0.01);
    },
    SLOWER,
  );

  it(
    "gives identical peakHeap and allocations over 3 runs of a deterministic workload",
    () => {
      const figures = [1, 2, 3].map(() => probed(["churn.py", "30000"]).merged.figures);
      const [first] = figures;
      expect(first?.allocations).toBeGreaterThan(30000);
      for (const other of figures) expectSameCounts(other, first ?? {});
    },
    SLOW,
  );

  it(
    "keeps pymalloc and counts what Python asks of it: the figures PYTHONMALLOC=malloc gives",
    () => {
      // The referees (DHAT, heaptrack) see Python's objects only under PYTHONMALLOC=malloc; the
      // probe wraps whichever allocator Python runs, so every choice must count the same calls.
      const figures = (env: NodeJS.ProcessEnv) => {
        const run = probed(["churn.py", "30000"], { env });
        expect(run.status).toBe(0);
        expect(run.files.find((f) => f.probe === "python")?.extra?.["pythonHook"]).toBe(true);
        return run.merged.figures;
      };
      const pymalloc = figures({});
      // About 8 a round through 3.13, 6 on 3.14 and 3.15.
      expect(pymalloc.allocations).toBeGreaterThan(30000 * 5);
      // A free-threaded build refuses PYTHONMALLOC=malloc: it runs mimalloc and its debug variant.
      const [plain, debugging] = freeThreaded()
        ? ["mimalloc", "mimalloc_debug"]
        : ["malloc", "pymalloc_debug"];
      const malloc = figures({ PYTHONMALLOC: plain });
      expectSameCounts(malloc, pymalloc);
      // The debug hooks pad every block under the hood: none of that padding is counted. The
      // count is the same but for what the interpreter reads apart by itself from run to run
      // (3.14.10 and 3.15.2 read one allocation apart either way: 178,574 vs 178,573, 178,556 vs 178,557).
      const debug = figures({ PYTHONMALLOC: debugging });
      expect(
        Math.abs((debug.allocations ?? Number.NaN) - (pymalloc.allocations ?? Number.NaN)),
        `allocations: ${debug.allocations} with ${debugging}, ${pymalloc.allocations} with pymalloc`,
      ).toBeLessThanOrEqual(runToRunJitter().allocations);
      within(debug.allocated, pymalloc.allocated ?? 0, 0.0001);
    },
    SLOW,
  );

  it(
    "counts N extra bytes objects as exactly N allocations of their size",
    () => {
      const size = 1000;
      const [small, large] = [10_000, 30_000];
      // CPython's own figure for one such object, rather than a layout copied here.
      const objectSize = Number(bare(["-c", `import sys; print(sys.getsizeof(bytes(${size})))`]).stdout);
      const a = probed(["bytes_loop.py", String(small), String(size)]).merged.figures;
      const b = probed(["bytes_loop.py", String(large), String(size)]).merged.figures;
      within((b.allocations ?? 0) - (a.allocations ?? 0), large - small, 0.01);
      within((b.allocated ?? 0) - (a.allocated ?? 0), (large - small) * objectSize, 0.01);
    },
    SLOW,
  );

  it(
    "writes one file per Python process and sums their totals",
    () => {
      const run = probed(["parent_child.py"]);
      expect(run.status).toBe(0);
      const pythons = run.files.filter((f) => f.probe === "python");
      expect(pythons).toHaveLength(2);
      expect(run.merged.processes).toHaveLength(2);
      const child = run.merged.processes.find((p) => run.merged.processes.some((q) => q.pid === p.ppid));
      const parent = run.merged.processes.find((p) => p !== child);
      expect(child?.ppid).toBe(parent?.pid);
      within(child?.figures.peakHeap, 16 * MiB, 0.01);
      expect(parent?.figures.peakHeap).toBeGreaterThanOrEqual(8 * MiB);
      expect(run.merged.figures.allocated).toBe(
        (parent?.figures.allocated ?? Number.NaN) + (child?.figures.allocated ?? Number.NaN),
      );
      expect(run.merged.figures.peakHeap).toBe(child?.figures.peakHeap);
    },
    SLOW,
  );

  it(
    "leaves shells in the process tree out of a Python scenario's figures",
    () => {
      // bash runs its exit handlers, so it writes a malloc file of its own.
      const run = probed(["-c", 'true; "$0" hold_bytearray.py; true', python], { command: "bash" });
      expect(run.status).toBe(0);
      const pythonPids = new Set(run.files.filter((f) => f.probe === "python").map((f) => f.pid));
      expect(pythonPids.size).toBe(1);
      expect(run.files.some((f) => f.probe === "malloc" && !pythonPids.has(f.pid))).toBe(true);
      expect(run.merged.processes.map((p) => p.pid)).toEqual([...pythonPids]);
      within(run.merged.figures.peakHeap, 100 * MiB, 0.01);
    },
    SLOW,
  );

  it(
    "still writes the figures of a multiprocessing fork child that leaves through os._exit",
    () => {
      const run = probed(["fork_exit.py"]);
      expect(run.stdout.trim()).toBe("0");
      const child = run.merged.processes.find((p) => p.exit === "_exit");
      expect(child).toBeDefined();
      within(child?.figures.peakHeap, 32 * MiB, 0.01);
      expect(run.files.filter((f) => f.pid === child?.pid).map((f) => f.exit)).toEqual(["_exit", "_exit"]);
      expect(run.merged.processes).toHaveLength(2);
    },
    SLOW,
  );

  it(
    "counts garbage collections and their pause",
    () => {
      const { figures } = probed(["gc_collect.py"]).merged;
      expect(figures.gcCollections).toBeGreaterThanOrEqual(5);
      expect(figures.gcPause).toBeGreaterThan(0);
    },
    SLOW,
  );

  it(
    "reports tracemalloc's peak beside the interposer's when MEMBUDGET_TRACEMALLOC=1",
    () => {
      const run = probed(["hold_bytearray.py"], { env: { MEMBUDGET_TRACEMALLOC: "1" } });
      const [proc] = run.merged.processes;
      within(proc?.extra?.["tracemallocPeak"] as number, 100 * MiB, 0.01);
      within(run.merged.figures.peakHeap, 100 * MiB, 0.01);
    },
    SLOW,
  );
});

// Free-threaded builds take the table way (no header before any block: their collector walks the
// heap block by block); MEMBUDGET_PYTHON_TABLE=1 takes it on a GIL build too, so both are checked
// on every interpreter these tests run with.
describe.each([
  ["a header before each block", "0"],
  ["a table of sizes", "1"],
])("the Python hook with %s", (_, table) => {
  const env = { MEMBUDGET_PYTHON_TABLE: table };

  it(
    "leaves the collector's work alone: cycles collected, weakref callbacks run, gc.get_objects() complete",
    () => {
      const plain = bare(["gc_behaviour.py", "20000"]);
      expect(plain.stdout.trim()).toBe("0 20000 20000");
      const run = probed(["gc_behaviour.py", "20000"], { env });
      expect(run.status, run.stderr).toBe(0);
      expect(run.stdout).toBe(plain.stdout);
      const hook = run.files.find((f) => f.probe === "python")?.extra;
      expect(hook?.["pythonHook"]).toBe(true);
      // A free-threaded build always keeps the table: it cannot have a header there.
      if (!freeThreaded()) expect(hook?.["pythonTable"]).toBe(table === "1");
    },
    SLOW,
  );
});

describe("the Python hook's table of sizes", () => {
  const table = { MEMBUDGET_PYTHON_TABLE: "1" };

  it(
    "agrees within 1 % with tracemalloc alone on a list of 1,000,000 tuples",
    () => {
      const tracemallocPeak = Number(bare(["tuples.py", "1000000", "--tracemalloc"]).stdout.trim());
      expect(tracemallocPeak).toBeGreaterThan(1_000_000 * 56);
      within(probed(["tuples.py", "1000000"], { env: table }).merged.figures.peakHeap, tracemallocPeak, 0.01);
    },
    SLOWER,
  );

  it(
    "counts exactly what the header counts",
    () => {
      const counted = (env: NodeJS.ProcessEnv) => {
        const { figures } = probed(["churn.py", "30000"], { env }).merged;
        return { peakHeap: figures.peakHeap, allocated: figures.allocated, allocations: figures.allocations };
      };
      const header = counted({ MEMBUDGET_PYTHON_TABLE: "0" });
      expect(header.allocations).toBeGreaterThan(30000);
      // The same counts, within what the interpreter reads apart between two runs by itself.
      expectSameCounts(counted(table), header);
    },
    SLOW,
  );
});

describe("the Python probe leaves the program alone", () => {
  it(
    "runs the user's own sitecustomize and changes neither output nor exit status",
    () => {
      const userSite = join(scratch, "user-site");
      mkdirSync(userSite, { recursive: true });
      writeFileSync(join(userSite, "sitecustomize.py"), 'MARK = "user"\n');
      const env = { PYTHONPATH: userSite };
      const plain = bare(["output.py"], env);
      const run = probed(["output.py"], { env });
      expect(plain.stdout).toContain("sitecustomize: user");
      expect(run.stdout).toBe(plain.stdout);
      expect(run.stderr).toBe(plain.stderr);
      expect(run.status).toBe(3);
      expect(run.files.map((f) => f.probe).sort()).toEqual(["malloc", "python"]);
    },
    SLOW,
  );

  // Each module the probe imports is start-up time in every Python process of the workload, and
  // a module the program then finds already loaded. importlib.util alone brings contextlib,
  // collections and functools: ~7 ms on Debian's python3, whose site loads none of them.
  // Debian's own interpreter where there is one (a chroot with only python3.X has none).
  const interpreters: [string, () => string][] = [["the Python on PATH", () => python]];
  if (existsSync("/usr/bin/python3"))
    interpreters.push(["Debian's /usr/bin/python3", () => "/usr/bin/python3"]);
  it.each(interpreters)(
    "loads only its own few modules into %s",
    (_, interpreter) => {
      const command = interpreter();
      const list = ["-c", "import sys; print(' '.join(sorted(sys.modules)))"];
      const plain = spawnSync(command, list, { cwd: WORKLOADS, env: userEnv(), encoding: "utf8" });
      const run = probed(list, { command });
      expect(run.status, run.stderr).toBe(0);
      expect(run.files.find((f) => f.probe === "python")?.extra?.["interposer"]).toBe(true);
      const before = new Set(plain.stdout.trim().split(" "));
      const added = run.stdout
        .trim()
        .split(" ")
        .filter((name) => !before.has(name));
      const own = ["_ctypes", "_membudget_sitecustomize", "atexit", "gc", "sitecustomize"];
      expect(added.filter((name) => !own.includes(name))).toEqual([]);
    },
    SLOW,
  );

  it(
    "stays quiet when the output directory has vanished",
    () => {
      const run = probed(["output.py"], { removeOutDir: true });
      expect(run.status).toBe(3);
      expect(run.stderr).toBe("to stderr\n");
      expect(run.files).toEqual([]);
    },
    SLOW,
  );
});

// The figures begin once site has imported usercustomize: that import (what it keeps, and the
// folders its search lists again because they changed) is start-up, as sitecustomize is.
describe("where the Python probe's figures begin", () => {
  const folder = (name: string, files: Record<string, string>) => {
    const dir = join(scratch, name);
    mkdirSync(dir, { recursive: true });
    for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
    return dir;
  };
  const held = (env: NodeJS.ProcessEnv) => {
    const run = probed(["-c", "held = bytearray(1024 * 1024); print('ran')"], { env });
    expect(run.stdout, run.stderr).toMatch(/ran/);
    return run;
  };
  // A tiny script's own peak on this interpreter (26-72 KB through 3.13, ~200 KB on 3.14 with its
  // larger I/O buffer): the 1 MiB program reads 1 MiB plus at most that, never the 8 MiB left out.
  let tiny: number | undefined;
  const aboutOneMiB = (peak: number | undefined) => {
    tiny ??= probed(["-c", "print('ran')"]).merged.figures.peakHeap ?? Number.NaN;
    expect(peak).toBeGreaterThanOrEqual(MiB);
    expect(peak).toBeLessThanOrEqual(MiB + tiny + 0.02 * MiB);
  };

  it(
    "leaves out what site's usercustomize holds and the collections it causes, as it leaves out sitecustomize",
    () => {
      // 20,000 lists kept: enough allocations for CPython's collector to run ~30 times.
      const user = "HELD = bytearray(8 << 20)\nKEPT = [[] for _ in range(20000)]\nprint('user')\n";
      const run = held({ PYTHONPATH: folder("user-customize", { "usercustomize.py": user }) });
      expect(run.stdout).toMatch(/^user$/m); // site ran it: user site-packages are enabled here
      aboutOneMiB(run.merged.figures.peakHeap);
      expect(run.merged.figures.gcCollections).toBe(0);
    },
    SLOW,
  );

  it(
    "leaves out a folder on sys.path listed again because it changed while Python started",
    () => {
      // The user's sitecustomize adds 1,000 files to its own folder after the probe's search listed
      // it: site's failing `import usercustomize` then lists it again (~90 KB of names).
      const make =
        "import os\nfor i in range(1000):\n    open(os.path.join(os.path.dirname(__file__), 'f%d-%d.txt' % (os.getpid(), i)), 'w').close()\n";
      const dir = folder("changing", { "sitecustomize.py": make });
      const run = held({ PYTHONPATH: dir });
      expect(readdirSync(dir).length).toBeGreaterThan(1000);
      aboutOneMiB(run.merged.figures.peakHeap);
    },
    SLOW,
  );
});

describe("the probe's compiled code (MEMBUDGET_PYCACHE)", () => {
  it(
    "is compiled once and then loaded, also where Python writes no bytecode, with the same figures; a damaged copy is compiled again",
    () => {
      const env = { PYTHONDONTWRITEBYTECODE: "1" };
      const run = () => {
        const r = probed(["churn.py", "3000"], { env });
        expect(r.status).toBe(0);
        return r;
      };
      const cache = probeEnv("python", scratch, userEnv()).env["MEMBUDGET_PYCACHE"];
      expect(cache).toMatch(/python-code$/);
      const first = run();
      // The file for this probe's source, keyed as the loader keys it (bytecode tag, mtime, size).
      const source = probeFile("python", "_membudget_probe.py");
      const key = spawnSync(
        python,
        [
          "-c",
          "import os, sys; st = os.stat(sys.argv[1]); print('%s-%x-%x-%x' % (sys.implementation.cache_tag, sys.hexversion, st.st_mtime_ns, st.st_size))",
          source,
        ],
        { encoding: "utf8" },
      ).stdout.trim();
      const file = join(cache!, `_membudget_probe-${key}.code`);
      expect(readdirSync(cache!)).toContain(`_membudget_probe-${key}.code`);
      const written = statSync(file).mtimeMs;
      // Loaded, not written again: the same file, the same figures.
      const second = run();
      expect(statSync(file).mtimeMs).toBe(written);
      // The start-up collection makes a run that compiled the probe count what one that loaded it
      // counts. Not quite everywhere, in every run: a compiled run counts a few allocations fewer
      // on 3.8 and the free-threaded 3.13, and on 3.9 and 3.10 also one small block less peak;
      // loaded runs then agree with each other (the determinism test). Elsewhere one allocation
      // at most: compiling interns names, and the table of interned strings, which never shrinks,
      // then grows at another point of the program (3.11.7 on a fresh CI machine, 3.14.10 and
      // 3.15.2 here: one allocation apart, the peak the same). From 3.13.1 on, two runs alike read
      // apart by themselves (runToRunJitter): a compiled run no more than that.
      const compiledApart = !pythonAtLeast(3, 9)
        ? { allocations: 2, peakHeap: 0 }
        : !pythonAtLeast(3, 11)
          ? { allocations: 5, peakHeap: 128 }
          : freeThreaded()
            ? { allocations: 1, peakHeap: runToRunJitter().peakHeap }
            : pythonAtLeast(3, 13, 1)
              ? { allocations: runToRunJitter().allocations, peakHeap: runToRunJitter().peakHeap }
              : { allocations: 1, peakHeap: 0 };
      const apart = (run: ProbedRun, key: "allocations" | "peakHeap") =>
        Math.abs((run.merged.figures[key] ?? Number.NaN) - (first.merged.figures[key] ?? Number.NaN));
      expect(apart(second, "allocations")).toBeLessThanOrEqual(compiledApart.allocations);
      expect(apart(second, "peakHeap")).toBeLessThanOrEqual(compiledApart.peakHeap);
      // A damaged copy: compiled again and replaced, the figures unchanged.
      writeFileSync(file, "not marshal data");
      const third = run();
      expect(apart(third, "allocations")).toBeLessThanOrEqual(compiledApart.allocations);
      expect(readFileSync(file, "latin1")).not.toBe("not marshal data");
    },
    SLOW,
  );
});

describe("mergeProcessFigures for Python", () => {
  const file = (
    probe: "python" | "malloc",
    pid: number,
    figures: ProcessFigures["figures"],
  ): ProcessFigures => ({
    probe,
    pid,
    figures,
  });

  it("combines each pid's files, sums totals, takes the largest peak, and skips non-Python pids", () => {
    const { figures, processes } = mergeProcessFigures(
      [
        file("python", 10, { gcPause: 0.5, gcCollections: 2 }),
        file("malloc", 10, { peakHeap: 100, allocated: 1000, allocations: 10 }),
        file("python", 11, { gcPause: 0.25, gcCollections: 3 }),
        file("malloc", 11, { peakHeap: 300, allocated: 500, allocations: 5 }),
        file("malloc", 12, { peakHeap: 9999, allocated: 9999, allocations: 9999 }),
      ],
      "python",
    );
    expect(processes.map((p) => p.pid)).toEqual([10, 11]);
    expect(figures).toEqual({
      peakHeap: 300,
      allocated: 1500,
      allocations: 15,
      gcPause: 0.75,
      gcCollections: 5,
    });
  });

  it("keeps a figure absent when no process measured it", () => {
    const { figures } = mergeProcessFigures(
      [file("python", 10, { peakHeap: 5, gcCollections: 0 })],
      "python",
    );
    expect(figures).toEqual({ peakHeap: 5, gcCollections: 0 });
  });
});
