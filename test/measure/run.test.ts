// Runs real workloads through runOnce: peak RSS against /usr/bin/time and computed sizes,
// short spikes, orphans, timeouts, huge output, failures to start.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OutputTail } from "../../src/measure/process/output-tail.js";
import { type RunSpec, runOnce } from "../../src/measure/process/run.js";
import { downsample } from "../../src/measure/timeline.js";

const MiB = 2 ** 20;
const fixtures = join(import.meta.dirname, "..", "fixtures", "workloads", "runner");
// The real interpreter, not pyenv's shim script, so /usr/bin/time measures the same process.
const python = spawnSync("python3", ["-c", "import sys; print(sys.executable)"], {
  encoding: "utf8",
}).stdout.trim();
const env = { ...process.env, PYTHON: python };
let buildDir = "";
let spike = "";

function spec(command: string, extra: Partial<RunSpec> = {}): RunSpec {
  return { command, cwd: fixtures, env, timeoutMs: 60_000, ...extra };
}

/** Peak RSS in bytes as GNU time reports it (KiB), the referee. */
function timePeak(argv: string[]): number {
  const result = spawnSync("/usr/bin/time", ["-f", "%M", ...argv], { cwd: fixtures, env, encoding: "utf8" });
  const lines = result.stderr.trim().split("\n");
  return Number(lines[lines.length - 1]) * 1024;
}

beforeAll(() => {
  buildDir = mkdtempSync(join(tmpdir(), "membudget-run-test-"));
  spike = join(buildDir, "spike");
  const cc = spawnSync("cc", ["-O0", "-o", spike, join(fixtures, "spike.c")], { encoding: "utf8" });
  if (cc.status !== 0) throw new Error(`cannot build spike.c: ${cc.stderr}`);
});

afterAll(() => {
  rmSync(buildDir, { recursive: true, force: true });
});

describe("peak RSS", () => {
  it("matches /usr/bin/time for a Python process holding 200 MiB", async () => {
    const outcome = await runOnce(spec(`"${python}" touch.py 200`));
    expect(outcome.error).toBeUndefined();
    expect(outcome.exitCode).toBe(0);
    const referee = timePeak([python, "touch.py", "200"]);
    expect(outcome.peakRss).toBeGreaterThanOrEqual(200 * MiB);
    expect(Math.abs(outcome.peakRss! - referee) / referee).toBeLessThan(0.05);
    expect(outcome.notes).toEqual([]);
  });

  it("matches /usr/bin/time for a C program touching 200 MiB", async () => {
    const outcome = await runOnce(spec(`${spike} 200 0`));
    const referee = timePeak([spike, "200", "0"]);
    expect(outcome.peakRss).toBeGreaterThanOrEqual(200 * MiB);
    expect(Math.abs(outcome.peakRss! - referee) / referee).toBeLessThan(0.05);
  });

  it("catches a spike that is freed at once, which sampling would miss", async () => {
    // 100 MiB touched and unmapped within milliseconds, then a quiet 300 ms at a small RSS.
    const outcome = await runOnce(spec(`${spike} 100 300`));
    expect(outcome.error).toBeUndefined();
    expect(outcome.peakRss).toBeGreaterThanOrEqual(100 * MiB);
    // The timeline saw the process, mostly at its quiet size.
    expect(outcome.timeline.length).toBeGreaterThan(0);
  });

  it("counts an orphaned grandchild (the shell exits before it touches its memory)", async () => {
    const outcome = await runOnce(spec("sh orphan.sh 150"));
    expect(outcome.error).toBeUndefined();
    // On a loaded machine its 0.3 s hold can outlast rsswrap's settle time and it is stopped (and
    // named in a note) after it touched its memory: counted either way, which is what is checked.
    expect(outcome.peakRss).toBeGreaterThanOrEqual(150 * MiB);
    // The run lasts until the orphan is gone, not just until the shell exits.
    expect(outcome.peakRssTree).toBeGreaterThanOrEqual(150 * MiB);
  });

  it("samples a timeline of the tree's summed RSS", async () => {
    const outcome = await runOnce(spec(`"${python}" touch.py 120 0.5`, { sampleIntervalMs: 10 }));
    expect(outcome.peakRssTree).toBeGreaterThanOrEqual(120 * MiB);
    expect(outcome.timeline.length).toBeGreaterThan(10);
    expect(outcome.timeline.length).toBeLessThanOrEqual(200);
    const times = outcome.timeline.map((p) => p.t);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(Math.max(...outcome.timeline.map((p) => p.rss))).toBe(outcome.peakRssTree);
  });

  it("falls back to sampling without rsswrap, and says so", async () => {
    const outcome = await runOnce(spec(`"${python}" touch.py 120 0.3`, { useRsswrap: false }));
    expect(outcome.error).toBeUndefined();
    expect(outcome.peakRss).toBeGreaterThanOrEqual(120 * MiB);
    // The largest single process seen (python), not the tree's sum (which adds the shell).
    expect(outcome.peakRss).toBeLessThanOrEqual(outcome.peakRssTree as number);
    expect(outcome.notes).toHaveLength(1);
    expect(outcome.notes[0]).toMatch(/sampled/);
  });
});

describe("failures", () => {
  it("reports a non-zero exit", async () => {
    const outcome = await runOnce(spec("echo oops >&2; exit 1"));
    expect(outcome.exitCode).toBe(1);
    expect(outcome.signal).toBeNull();
    expect(outcome.error).toBe("exited with code 1");
    expect(outcome.stderrTail).toBe("oops\n");
  });

  it("reports a command that does not exist as exit 127", async () => {
    const outcome = await runOnce(spec("membudget-no-such-command --flag"));
    expect(outcome.exitCode).toBe(127);
    expect(outcome.error).toMatch(/127.*not found/);
    expect(outcome.stderrTail).toMatch(/membudget-no-such-command/);
  });

  it("reports a death by signal", async () => {
    const outcome = await runOnce(spec("kill -SEGV $$"));
    expect(outcome.signal).toBe("SIGSEGV");
    expect(outcome.exitCode).toBeNull();
    expect(outcome.error).toBe("killed by SIGSEGV");
  });

  it("explains an exit code that a shell made of a signal", async () => {
    const outcome = await runOnce(spec("sh -c 'kill -KILL $$'; exit $?"));
    expect(outcome.exitCode).toBe(137);
    expect(outcome.error).toMatch(
      /^exited with code 137 \(a process was killed by SIGKILL\) \(out of memory\?/,
    );
  });

  it("reports a working directory that does not exist", async () => {
    const outcome = await runOnce(spec("true", { cwd: join(buildDir, "missing") }));
    expect(outcome.error).toMatch(/could not start: .*missing does not exist/);
    expect(outcome.exitCode).toBeNull();
  });
});

describe("the command line", () => {
  // A command line runs as /bin/sh -c runs it, even one of plain words, which the wrapper could
  // exec itself: the program would then lead the process group rsswrap gives it, so setsid() would
  // fail (EPERM), and it would get neither the shell's PWD nor its filtering of the environment.
  it("leaves the program free to start a session of its own", async () => {
    const outcome = await runOnce(spec(`${python} setsid.py`));
    expect(outcome.error).toBeUndefined();
    expect(outcome.stdoutTail).toBe("setsid ok\n");
  });

  it("gives the program the PWD of the directory it runs in", async () => {
    const outcome = await runOnce(spec(`${python} pwd.py`, { env: { ...env, PWD: "/" } }));
    expect(outcome.stdoutTail).toBe(`${fixtures}\n`);
  });
});

describe("timeouts", () => {
  it("stops a workload that sleeps past its timeout with SIGTERM", async () => {
    const begun = Date.now();
    const outcome = await runOnce(spec("sleep 60", { timeoutMs: 500, graceMs: 2000 }));
    const elapsed = Date.now() - begun;
    expect(outcome.timedOut).toBe(true);
    expect(outcome.signal).toBe("SIGTERM");
    expect(outcome.error).toBe("timed out after 500 ms; stopped by SIGTERM within the 2 s grace");
    // Bounded by timeout + grace (+ generous slack), far below the 60 s the workload wanted.
    expect(elapsed).toBeLessThan(500 + 2000 + 5000);
  });

  it("kills a child that ignores SIGTERM and holds stdout open, after the grace", async () => {
    const begun = Date.now();
    const outcome = await runOnce(spec("sh ignore-term.sh", { timeoutMs: 1500, graceMs: 500 }));
    const elapsed = Date.now() - begun;
    expect(outcome.timedOut).toBe(true);
    expect(outcome.error).toBe("timed out after 1.5 s; sent SIGTERM, then SIGKILL after 500 ms grace");
    expect(outcome.stdoutTail).toBe("ignoring SIGTERM\n");
    expect(elapsed).toBeLessThan(1500 + 500 + 5000);
    // rsswrap survived the kill and still reaped the python child.
    expect(outcome.peakRss).toBeGreaterThan(0);
  });

  it("does the same without rsswrap", async () => {
    const begun = Date.now();
    const outcome = await runOnce(
      spec("sh ignore-term.sh", { timeoutMs: 1500, graceMs: 500, useRsswrap: false }),
    );
    expect(outcome.timedOut).toBe(true);
    expect(outcome.error).toMatch(/SIGKILL after 500 ms grace/);
    expect(Date.now() - begun).toBeLessThan(1500 + 500 + 5000);
  });

  it("can be cancelled through an AbortSignal", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    const outcome = await runOnce(spec("sleep 60", { signal: controller.signal, graceMs: 1000 }));
    expect(outcome.timedOut).toBe(false);
    expect(outcome.error).toMatch(/^cancelled; /);
  });
});

describe("output", () => {
  it("keeps the LAST bytes of each stream and counts them all", async () => {
    const n = 100_000;
    let expected = "";
    for (let i = 1; i <= n; i++) expected += `${i}\n`;
    const outcome = await runOnce(spec(`"${python}" count-lines.py ${n}`, { outputLimit: 1000 }));
    expect(outcome.stdoutBytes).toBe(expected.length);
    expect(outcome.stdoutTail).toBe(expected.slice(-1000));
  });

  it("streams output to a hook", async () => {
    const chunks: Buffer[] = [];
    const outcome = await runOnce(spec(`"${python}" count-lines.py 20000`), {
      onOutput: (stream, chunk) => {
        if (stream === "stdout") chunks.push(chunk);
      },
    });
    expect(Buffer.concat(chunks).length).toBe(outcome.stdoutBytes);
    expect(Buffer.concat(chunks).toString().endsWith("19999\n20000\n")).toBe(true);
  });

  it("survives 1 GiB of output without growing our own memory", async () => {
    const before = process.memoryUsage.rss();
    let highest = before;
    const watch = setInterval(() => {
      highest = Math.max(highest, process.memoryUsage.rss());
    }, 5);
    const outcome = await runOnce(spec("sh flood.sh", { outputLimit: 64 * 1024 }));
    clearInterval(watch);
    highest = Math.max(highest, process.memoryUsage.rss());
    expect(outcome.stdoutBytes).toBe(2 ** 30);
    expect(outcome.stdoutTail.length).toBe(64 * 1024);
    expect(outcome.stdoutTail).toBe("\0".repeat(64 * 1024));
    expect(outcome.error).toBe("exited with code 3");
    expect(highest - before).toBeLessThan(64 * MiB);
  });
});

describe("OutputTail", () => {
  it("keeps the last bytes across wrap-arounds without splitting a UTF-8 character", () => {
    const tail = new OutputTail(10);
    const text = "añb€c".repeat(7); // 1-, 2- and 3-byte characters
    for (const piece of [text.slice(0, 3), text.slice(3, 20), text.slice(20)]) tail.push(Buffer.from(piece));
    const bytes = Buffer.from(text);
    expect(tail.total).toBe(bytes.length);
    const expected = bytes
      .subarray(bytes.length - 10)
      .toString("utf8")
      .replace(/^\uFFFD+/, "");
    expect(tail.text()).toBe(expected);
    expect(tail.text()).not.toMatch(/\uFFFD/);
  });
});

describe("downsample", () => {
  it("keeps at most the asked number of points, evenly in time, and the peak", () => {
    const points = Array.from({ length: 1000 }, (_, i) => ({ t: i / 100, rss: i === 437 ? 999 : i % 7 }));
    const out = downsample(points, 200);
    expect(out.length).toBeLessThanOrEqual(200);
    expect(out.length).toBeGreaterThan(190);
    expect(Math.max(...out.map((p) => p.rss))).toBe(999);
    expect(out[0]!.t).toBeLessThan(0.05); // the first bucket is the first 5 points
  });
});
