// Budget files that are absurd, deep, doubled or not files at all, through `node dist/cli.js validate`:
// each is exit 2 with the file, the pointer, the line and the fix (issue 10, items 5 and 6).
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { BUDGET_FILE_LIMIT } from "../../src/model/limits.js";
import { SYNTAX } from "../../src/model/units.js";

const CLI = resolve("dist/cli.js");

function validate(text: string | undefined, file = "membudget.json") {
  const dir = mkdtempSync(join(tmpdir(), "mb-absurd-"));
  if (text !== undefined) writeFileSync(join(dir, file), text);
  const r = spawnSync(process.execPath, [CLI, "validate", file], {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1" },
    // A FIFO or /dev/zero that is read hangs or grows without end: this bounds the test, not membudget.
    timeout: 20_000,
    maxBuffer: 1024 * 1024,
  });
  return { code: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, dir };
}

const scenario = (fields: string) =>
  `{\n  "scenarios": {\n    "a": {\n      "run": "true",\n${fields}\n    }\n  }\n}\n`;

/** exit 2, and stderr names `file:line:column at pointer`, the message and a fix; never a stack. */
function expectLocated(
  r: ReturnType<typeof validate>,
  file: string,
  line: number,
  pointer: string,
  message: RegExp,
) {
  expect(r.signal).toBeNull();
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
  const place = new RegExp(
    `${file.replace(/[./]/g, "\\$&")}:${line}:\\d+ at ${pointer.replace(/\//g, "\\/")}: (.*)\\n\\s+fix: \\S`,
  );
  expect(r.stderr).toMatch(place);
  expect(r.stderr.match(place)![1]).toMatch(message);
  // Nothing of the value's 50 MB, nor Infinity/NaN, reaches the message.
  expect(r.stderr).not.toMatch(/Infinity|NaN|null is not/);
  expect(r.stderr.length).toBeLessThan(2000);
}

describe("absurd values are errors, not silence (item 5)", () => {
  const maxTimeout = SYNTAX.duration.maxText;
  it.each([
    ['"600h"', /"600h" is more than the largest duration .* 24h/],
    ["3e9", /3e9 is more than the largest duration .* 24h/],
    ["1e308", /1e308 is more than/],
    ["1e309", /1e309 is more than/],
  ])("timeout %s", (value, message) => {
    const r = validate(scenario(`      "timeout": ${value}`));
    expectLocated(r, "membudget.json", 5, "/scenarios/a/timeout", message);
    expect(r.stderr).toContain(`at most ${maxTimeout}`);
    // One problem: not also "timeout must be above 0" for the value that stood in for it.
    expect(r.stderr).toContain("1 problem");
  });

  it.each([
    ['"peakRss": 1e309', "/scenarios/a/budget/peakRss", /1e309 is more than the largest size .* 1 PiB/],
    ['"allocations": 1e309', "/scenarios/a/budget/allocations", /1e309 is more than the largest count/],
    ['"wallTime": "1e3s"', "/scenarios/a/budget/wallTime", /"1e3s" is not a duration/],
    [
      `"peakHeap": "${"9".repeat(400)} MiB"`,
      "/scenarios/a/budget/peakHeap",
      /"9{30,}…" \(\d+ characters\) is more than/,
    ],
  ])("budget %s", (budget, pointer, message) => {
    const r = validate(scenario(`      "budget": {\n        ${budget}\n      }`));
    expectLocated(r, "membudget.json", 6, pointer, message);
  });

  it("a digit string of 50 MB: refused for its size before it is parsed", () => {
    const digits = "9".repeat(50 * 1024 * 1024);
    const r = validate(scenario(`      "budget": { "peakRss": "${digits}" }`));
    expectLocated(r, "membudget.json", 1, "\\(top level\\)", /larger than 1\.0 MiB: 50\.0 MiB/);
  });

  it.each([
    ["1e309", /1e309 is more than the largest percentage .* 1000%/],
    ['"1001%"', /"1001%" is more than the largest percentage/],
    ["-1", /-1 is not a percentage/],
  ])("tolerance %s", (value, message) => {
    const r = validate(scenario(`      "tolerance": ${value}`));
    expectLocated(r, "membudget.json", 5, "/scenarios/a/tolerance", message);
  });

  it("repeat 1e309 is located with the value as written, and the range as the fix", () => {
    const r = validate(scenario(`      "repeat": 1e309`));
    expectLocated(r, "membudget.json", 5, "/scenarios/a/repeat", /1e309 must be <= 100/);
    expect(r.stderr).toContain("fix: use a number from 1 to 100");
  });
});

describe("nesting, duplicates, special files (item 6)", () => {
  it("a file nested 10,000 deep is 'nested too deeply', not a stack overflow", () => {
    const r = validate(
      `{"scenarios": {"a": {"run": "true", "env": ${"[".repeat(10_000)}${"]".repeat(10_000)}}}}`,
    );
    expectLocated(r, "membudget.json", 1, "\\(top level\\)", /nested too deeply/);
  });

  it("a scenario written twice is rejected at the second, naming the first", () => {
    const r = validate(
      '{\n  "scenarios": {\n    "a": { "run": "true" },\n    "a": { "run": "false" }\n  }\n}\n',
    );
    expectLocated(r, "membudget.json", 4, "/scenarios/a", /"a" is written twice .*first at line 3, column 5/);
    expect(r.stderr).toContain("give each scenario its own name");
  });

  it("a metric written twice in one budget is rejected", () => {
    const r = validate(
      scenario(`      "budget": {\n        "peakRss": "1 GiB",\n        "peakRss": "2 GiB"\n      }`),
    );
    expectLocated(r, "membudget.json", 7, "/scenarios/a/budget/peakRss", /"peakRss" is written twice/);
  });

  it("a FIFO is refused at once, not read forever", () => {
    const dir = mkdtempSync(join(tmpdir(), "mb-fifo-"));
    execFileSync("mkfifo", [join(dir, "membudget.json")]);
    const r = spawnSync(process.execPath, [CLI, "validate", "membudget.json"], {
      cwd: dir,
      encoding: "utf8",
      timeout: 20_000,
    });
    expect(r.signal).toBeNull();
    expectLocated(
      { ...r, code: r.status, dir },
      "membudget.json",
      1,
      "\\(top level\\)",
      /not a regular file/,
    );
  });

  it("/dev/zero is refused, not read until memory runs out", () => {
    const r = spawnSync(process.execPath, [CLI, "validate", "/dev/zero"], {
      encoding: "utf8",
      timeout: 20_000,
    });
    expectLocated({ ...r, code: r.status, dir: "" }, "/dev/zero", 1, "\\(top level\\)", /not a regular file/);
  });

  it("a regular file just over the cap is refused; just under is read", () => {
    const pad = (n: number) => `${scenario('      "description": "x"').trimEnd()}${" ".repeat(n)}\n`;
    const under = pad(BUDGET_FILE_LIMIT - scenario('      "description": "x"').length);
    expect(Buffer.byteLength(under)).toBe(BUDGET_FILE_LIMIT);
    expect(validate(under).code).toBe(0);
    const over = validate(`${under} `);
    expectLocated(over, "membudget.json", 1, "\\(top level\\)", /larger than 1\.0 MiB/);
  });

  it('a newline inside a size ("64\\nMiB") is not a size', () => {
    const r = validate(scenario(`      "budget": { "peakRss": "64\\nMiB" }`));
    expectLocated(r, "membudget.json", 5, "/scenarios/a/budget/peakRss", /"64\\nMiB" is not a size/);
  });
});
