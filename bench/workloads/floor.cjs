// The floor of membudget's fixed cost: a Node.js program that does only what a `membudget run` of
// one scenario cannot do without. It makes the run's folder, starts the workload as the CLI does
// (rsswrap in its own process group, /bin/sh, the probe's environment), waits for it, parses the
// JSON files it left and removes the folder. No budget file, no command line, no verdict, no
// report: the difference between this and `membudget run` is the CLI's own work.
//
// node floor.cjs <rsswrap> -- <command...>, with the probe's environment (MEMBUDGET_PRELOAD,
// PYTHONPATH, MEMBUDGET_PYCACHE) in the environment.
const { spawn } = require("node:child_process");
const { mkdtempSync, readdirSync, readFileSync, rmSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { join } = require("node:path");

const [rsswrap, dash, ...command] = process.argv.slice(2);
if (!rsswrap || dash !== "--" || command.length === 0) {
  process.stderr.write("usage: node floor.cjs <rsswrap> -- <command...>\n");
  process.exit(2);
}
const dir = mkdtempSync(join(tmpdir(), "membudget-floor-"));
const child = spawn(rsswrap, [join(dir, "rsswrap.json"), "--", ...command], {
  env: { ...process.env, MEMBUDGET_OUT_DIR: dir },
  stdio: "ignore",
  detached: true,
});
child.once("error", (error) => {
  process.stderr.write(`floor.cjs: ${error.message}\n`);
  process.exitCode = 3;
});
child.once("exit", (code) => {
  const files = readdirSync(dir).filter((f) => f.endsWith(".json"));
  for (const f of files) JSON.parse(readFileSync(join(dir, f), "utf8"));
  rmSync(dir, { recursive: true, force: true });
  // The wrapper's result and the Python probe's: without them the floor measured less than a run.
  if (!files.includes("rsswrap.json") || !files.some((f) => f.endsWith(".python.json"))) {
    process.stderr.write(`floor.cjs: the run left ${files.join(", ") || "no files"}\n`);
    process.exitCode = 3;
  } else process.exitCode = code ?? 3;
});
