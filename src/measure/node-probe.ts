// Builds the environment that preloads the Node.js probe (probes/node/probe.cjs) into every Node
// process of a workload (what each figure is: FIGURES.node in src/model/metrics.ts).
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { probeFile } from "./probe-files.js";

export interface NodeProbeOptions {
  /**
   * Repeatable GC timing: the probe turns V8's concurrent marking off at start-up, and a `node`
   * first on PATH (nodeShim) starts every `node` of the workload with its optimizing compiler and
   * its scavenges on the main thread, which makes peakHeap, allocated and gcCollections repeat run
   * to run. Default true.
   */
  predictable?: boolean;
  /**
   * Write figures when SIGTERM/SIGINT end a process (then re-raise the signal). Off by default: a
   * JavaScript signal listener only runs when the event loop turns, so a process busy in
   * synchronous code stops dying on the signal, and may even finish and exit 0 having lost it.
   * Worth it for workloads that end idle children with SIGTERM; the runner must escalate to SIGKILL.
   */
  signals?: boolean;
}

/** Environment for a workload measured with the Node.js probe; `notes` are said once to the user. */
export function nodeProbeEnv(
  outDir: string,
  baseEnv: NodeJS.ProcessEnv,
  opts: NodeProbeOptions = {},
): { env: NodeJS.ProcessEnv; notes: string[] } {
  const notes: string[] = [];
  const env: NodeJS.ProcessEnv = { ...baseEnv, MEMBUDGET_OUT_DIR: outDir };
  const existing = baseEnv["NODE_OPTIONS"]?.trim() ?? "";
  env["NODE_OPTIONS"] = withRequire(existing, probeFile("node", "probe.cjs"));
  if (existing !== "") notes.push(`NODE_OPTIONS is set (${existing}): the Node.js probe is added after it`);
  if (opts.predictable ?? true) {
    env["MEMBUDGET_NODE_PREDICTABLE"] = "1";
    const shims = nodeShim(outDir);
    const path = baseEnv["PATH"];
    env["PATH"] = path ? `${shims}${delimiter}${path}` : shims;
  } else {
    delete env["MEMBUDGET_NODE_PREDICTABLE"];
    notes.push("Node.js GC left concurrent: peakHeap may vary by a few percent between runs");
  }
  if (opts.signals) env["MEMBUDGET_NODE_SIGNALS"] = "1";
  else delete env["MEMBUDGET_NODE_SIGNALS"];
  return { env, notes };
}

/**
 * The flags the runner's `node` adds: V8 compiles optimized code on the main thread, at the point
 * of the program where it is asked for, and copies a scavenge's survivors on one thread, so that
 * the same survivors are kept every run.
 */
export const REPEATABLE_FLAGS = ["--no-concurrent-recompilation", "--no-parallel-scavenge"] as const;

/**
 * Writes `<outDir>/.node-bin/node`, a shell script that runs the next `node` on PATH (skipping its
 * own folder) with REPEATABLE_FLAGS, and returns the folder. Optimized code is compiled on
 * background threads and installed whenever it is ready; it allocates less, so a scavenge falls
 * at another point of the program from run to run; and a parallel scavenge keeps another set of
 * survivors: a real program's peak flipped (terser over d3.js on Node 20: 60.1 or 65.6 MiB; marked
 * over 3 MB under load: 149.0 or 152.6 MiB). V8 reads these flags only at start-up and NODE_OPTIONS
 * refuses them, so they go on node's command line. A `node` started by its path (`/usr/bin/node
 * x.js`) or from a PATH the workload set itself does not get them: the probe says so
 * (`repeatable: false`).
 */
export function nodeShim(outDir: string): string {
  const dir = join(outDir, ".node-bin");
  mkdirSync(dir, { recursive: true });
  const quoted = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;
  const script = [
    "#!/bin/sh",
    "# membudget: the next node on PATH, with V8's optimizing compiler and scavenges on the main",
    "# thread (a heap peak that repeats run to run; docs/measurement.md, Node.js).",
    `own=${quoted(dir)}`,
    "set -f",
    "IFS=:",
    "for dir in $PATH; do",
    '  [ "$dir" = "$own" ] && continue',
    '  [ -n "$dir" ] || dir=.',
    '  if [ -f "$dir/node" ] && [ -x "$dir/node" ]; then',
    "    unset IFS",
    `    exec "$dir/node" ${REPEATABLE_FLAGS.join(" ")} "$@"`,
    "  fi",
    "done",
    'echo "membudget: node: not found on PATH" >&2',
    "exit 127",
    "",
  ].join("\n");
  const file = join(dir, "node");
  writeFileSync(file, script);
  chmodSync(file, 0o755);
  return dir;
}

/** Appends `--require <path>` to a NODE_OPTIONS value, unless that exact option is already there. */
export function withRequire(nodeOptions: string, path: string): string {
  const option = `--require ${quoteNodeOption(path)}`;
  if (nodeOptions.includes(option)) return nodeOptions;
  return nodeOptions === "" ? option : `${nodeOptions} ${option}`;
}

/**
 * Quotes a value for NODE_OPTIONS as Node parses it: words split on spaces; inside double quotes
 * a backslash escapes the next character; outside them a backslash is literal.
 */
export function quoteNodeOption(value: string): string {
  if (!/[\s"\\]/.test(value)) return value;
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}
