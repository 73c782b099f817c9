// Ground truth for the native allocation probe: a C program, compiled here with cc, that mallocs
// exactly N blocks of a known size, run under the LD_PRELOAD interposer that probeEnv sets up.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mergeProcessFigures, probeEnv, readProbeFiles } from "../../src/measure/probes.js";
import type { ProcessFigures } from "../../src/measure/types.js";
import { unavailableOf } from "../../src/measure/unavailable.js";

const SOURCE = fileURLToPath(new URL("../fixtures/workloads/native/blocks.c", import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), "membudget-malloc-probe-"));
const program = join(scratch, "blocks");
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

beforeAll(() => {
  const cc = spawnSync(process.env["CC"] ?? "cc", ["-O1", "-o", program, SOURCE, "-lpthread"], {
    encoding: "utf8",
  });
  expect(cc.stderr).toBe("");
  expect(cc.status).toBe(0);
});

let runs = 0;

function probed(args: string[], baseEnv: NodeJS.ProcessEnv = {}, command = program) {
  const outDir = join(scratch, `run-${++runs}`);
  mkdirSync(outDir);
  const base = { PATH: process.env["PATH"], ...baseEnv };
  const probe = probeEnv("native", outDir, base);
  expect(probe.notes).toEqual([]);
  const result = spawnSync(command, args, { env: { ...base, ...probe.env }, encoding: "utf8" });
  const problems: string[] = [];
  const files = readProbeFiles(outDir, (message) => problems.push(message));
  expect(problems).toEqual([]);
  const merged = mergeProcessFigures(files, "native");
  const unavailable = unavailableOf({
    runtime: "native",
    instrumented: true,
    probeNotes: probe.notes,
    processes: merged.processes,
    figures: merged.figures,
  });
  return { ...result, files, merged, unavailable };
}

/** The figures of the larger run minus those of the smaller: what the extra blocks cost. */
function difference(small: string[], large: string[]) {
  const a = probed(small).merged.figures;
  const b = probed(large).merged.figures;
  return {
    allocations: (b.allocations ?? Number.NaN) - (a.allocations ?? Number.NaN),
    allocated: (b.allocated ?? Number.NaN) - (a.allocated ?? Number.NaN),
    peakHeap: (b.peakHeap ?? Number.NaN) - (a.peakHeap ?? Number.NaN),
  };
}

describe("the malloc interposer", () => {
  it("keeps every allocation entry point working as glibc's does", () => {
    const run = probed(["api"]);
    expect(run.stderr).toBe("");
    expect(run.stdout).toBe("api ok\n");
    expect(run.status).toBe(0);
  });

  it("counts N blocks of a known size exactly", () => {
    const size = 100;
    const [small, large] = [1000, 3000];
    const run = probed([String(large), String(size)]);
    expect(run.files).toHaveLength(1);
    expect(run.merged.figures.allocations).toBeGreaterThanOrEqual(large);
    expect(run.merged.figures.peakHeap).toBeGreaterThanOrEqual(large * size);
    expect(difference([String(small), String(size)], [String(large), String(size)])).toEqual({
      allocations: large - small,
      allocated: (large - small) * size,
      peakHeap: (large - small) * size,
    });
  });

  it("counts exactly when two threads allocate at once", () => {
    const size = 64;
    const [small, large] = [2000, 6000];
    const extra = difference(
      [String(small), String(size), "threads"],
      [String(large), String(size), "threads"],
    );
    expect(extra.allocations).toBe(2 * (large - small));
    expect(extra.allocated).toBe(2 * (large - small) * size);
    // Both threads' blocks may or may not be live at the same moment: between one and two sets.
    const peak = probed([String(large), String(size), "threads"]).merged.figures.peakHeap ?? 0;
    expect(peak).toBeGreaterThanOrEqual(large * size);
    expect(peak).toBeLessThanOrEqual(2 * large * size + 64 * 1024);
  });

  it("gives a forked child figures of its own, counted from the fork", () => {
    const size = 256;
    const run = probed(["5000", String(size), "fork"]);
    expect(run.files).toHaveLength(2);
    const child = run.files.find((f) => f.ppid === run.pid);
    expect(child?.figures).toEqual({ allocations: 5000, allocated: 5000 * size, peakHeap: 5000 * size });
    expect(run.merged.figures.allocations).toBe(
      run.files.reduce((sum, f) => sum + (f.figures.allocations ?? Number.NaN), 0),
    );
  });

  it("steps aside, and says so, when another malloc comes first in LD_PRELOAD", () => {
    const shadow = join(scratch, "libshadow.so");
    const source = join(scratch, "shadow.c");
    writeFileSync(
      source,
      [
        "#include <stddef.h>",
        "extern void *__libc_malloc(size_t); extern void __libc_free(void *);",
        "extern void *__libc_calloc(size_t, size_t); extern void *__libc_realloc(void *, size_t);",
        "void *malloc(size_t n) { return __libc_malloc(n); }",
        "void free(void *p) { __libc_free(p); }",
        "void *calloc(size_t a, size_t b) { return __libc_calloc(a, b); }",
        "void *realloc(void *p, size_t n) { return __libc_realloc(p, n); }",
      ].join("\n"),
    );
    expect(spawnSync("cc", ["-O2", "-shared", "-fPIC", "-o", shadow, source]).status).toBe(0);
    const run = probed(["api"], { LD_PRELOAD: shadow });
    expect(run.stdout).toBe("api ok\n");
    const [file] = run.files;
    expect(file?.figures).toEqual({});
    expect(String(file?.extra?.["unavailable"])).toMatch(/another malloc comes first/);
    expect(run.merged.figures.allocations).toBeUndefined();
    expect(run.unavailable.allocations).toMatch(/another malloc comes first/);
    expect(run.unavailable.peakHeap).toMatch(/another malloc comes first/);
  });

  // A non-PIE program that takes malloc's address exports a PLT stub named malloc (as Debian's
  // /usr/bin/python3 does): dlsym finds that stub first, yet every call still reaches us.
  it("counts in a non-PIE program that takes malloc's address", () => {
    const source = join(scratch, "address.c");
    const exe = join(scratch, "address");
    writeFileSync(
      source,
      [
        "#include <stdlib.h>",
        // Passing malloc as an argument makes non-PIE code take its address in an instruction,
        // which the linker answers with a "canonical" PLT entry exported under malloc's name.
        "__attribute__((noinline)) static void run(void *(*volatile take)(size_t)) {",
        "  for (int i = 0; i < 1000; i++) free(take(77));",
        "}",
        "int main(void) { run(malloc); return 0; }",
      ].join("\n"),
    );
    const cc = spawnSync("cc", ["-O1", "-no-pie", "-fno-pie", "-o", exe, source], { encoding: "utf8" });
    expect(cc.stderr).toBe("");
    expect(spawnSync("sh", ["-c", `readelf -h ${exe}`], { encoding: "utf8" }).stdout).toMatch(/EXEC/);
    const nm = spawnSync("sh", ["-c", `readelf --dyn-syms -W ${exe}`], { encoding: "utf8" }).stdout;
    // An undefined symbol with a non-zero value: the stub that dlsym(RTLD_DEFAULT) returns.
    expect(nm).toMatch(/: 0*[1-9a-f][0-9a-f]* +0 FUNC +GLOBAL +DEFAULT +UND malloc\b/);
    const run = probed([], {}, exe);
    expect(run.status).toBe(0);
    expect(run.files[0]?.extra?.["unavailable"]).toBeUndefined();
    expect(run.merged.figures.allocations).toBeGreaterThanOrEqual(1000);
    expect(run.merged.figures.allocated).toBeGreaterThanOrEqual(77_000);
  });

  it("steps aside, and says so, when the program brings its own malloc", () => {
    const source = join(scratch, "own.c");
    const exe = join(scratch, "own");
    writeFileSync(
      source,
      [
        "#include <stddef.h>",
        "extern void *__libc_malloc(size_t); extern void __libc_free(void *);",
        "void *malloc(size_t n) { return __libc_malloc(n); }",
        "void free(void *p) { __libc_free(p); }",
        "int main(void) { for (int i = 0; i < 1000; i++) free(malloc(77)); return 0; }",
      ].join("\n"),
    );
    const cc = spawnSync("cc", ["-O1", "-rdynamic", "-o", exe, source], { encoding: "utf8" });
    expect(cc.stderr).toBe("");
    const run = probed([], {}, exe);
    expect(run.status).toBe(0);
    expect(run.files[0]?.figures).toEqual({});
    expect(run.unavailable.allocated).toMatch(/another malloc comes first/);
  });
});

describe("readProbeFiles", () => {
  it("skips temporary files and reports probe files that do not parse", () => {
    const dir = join(scratch, "files");
    mkdirSync(dir);
    const good: ProcessFigures = { probe: "malloc", pid: 12, figures: { allocations: 3 } };
    writeFileSync(join(dir, "12.malloc.json"), JSON.stringify(good));
    writeFileSync(join(dir, ".13.malloc.json.tmp"), '{"probe":"mal');
    writeFileSync(join(dir, "14.python.json"), '{"probe":"pyth');
    writeFileSync(join(dir, "15.python.json"), JSON.stringify({ ...good, pid: 15 }));
    writeFileSync(join(dir, "notes.txt"), "not a probe file");
    const problems: string[] = [];
    expect(readProbeFiles(dir, (message) => problems.push(message))).toEqual([good]);
    expect(problems).toHaveLength(2);
    expect(problems[0]).toContain("14.python.json");
    expect(problems[1]).toMatch(/15\.python\.json.*expected "python"/);
  });

  it("finds nothing in a directory that was never created", () => {
    expect(readProbeFiles(join(scratch, "never"))).toEqual([]);
  });
});

describe("mergeProcessFigures for native commands", () => {
  it("counts every process's malloc file", () => {
    const files: ProcessFigures[] = [
      { probe: "malloc", pid: 1, figures: { peakHeap: 10, allocated: 100, allocations: 1 } },
      { probe: "malloc", pid: 2, figures: { peakHeap: 30, allocated: 50, allocations: 2 } },
    ];
    expect(mergeProcessFigures(files, "native").figures).toEqual({
      peakHeap: 30,
      allocated: 150,
      allocations: 3,
    });
  });
});

describe("mergeProcessFigures leaves launchers out", () => {
  it("does not count poetry, npm and friends, only the programs they start", () => {
    const python = (pid: number, argv: string[], peakHeap: number): ProcessFigures[] => [
      { probe: "python", pid, argv, figures: { gcCollections: 1 } },
      { probe: "malloc", pid, argv, figures: { peakHeap, allocated: peakHeap, allocations: 1 } },
    ];
    const files = [
      ...python(1, ["/venv/bin/python", "/venv/bin/poetry", "run", "python", "x.py"], 40 << 20),
      ...python(2, ["/venv/bin/python", "x.py"], 10 << 20),
    ];
    const merged = mergeProcessFigures(files, "python");
    expect(merged.processes.map((p) => p.pid)).toEqual([2]);
    expect(merged.figures).toMatchObject({ peakHeap: 10 << 20, allocated: 10 << 20 });

    const node: ProcessFigures[] = [
      {
        probe: "node",
        pid: 3,
        argv: ["/usr/bin/node", "/usr/lib/node_modules/npm/bin/npm-cli.js", "run", "x"],
        figures: { allocated: 8 },
      },
      { probe: "node", pid: 4, argv: ["/usr/bin/node", "/repo/x.js"], figures: { allocated: 5 } },
    ];
    expect(mergeProcessFigures(node, "node").figures).toEqual({ allocated: 5 });
  });
});
