// Builds the environment that preloads the Node.js probe (probes/node/probe.cjs) into every Node
// process of a workload (what each figure is: FIGURES.node in src/model/metrics.ts).
import { probeFile } from "./probe-files.js";

export interface NodeProbeOptions {
  /**
   * Repeatable GC timing: the probe turns V8's concurrent marking off at start-up, which makes
   * peakHeap, allocated and gcCollections identical run to run, at the price of marking on the
   * main thread. Default true.
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
  } else {
    delete env["MEMBUDGET_NODE_PREDICTABLE"];
    notes.push("Node.js GC left concurrent: peakHeap may vary by a few percent between runs");
  }
  if (opts.signals) env["MEMBUDGET_NODE_SIGNALS"] = "1";
  else delete env["MEMBUDGET_NODE_SIGNALS"];
  return { env, notes };
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
