// Infers which probe measures a command when the budget file does not say.
import type { Runtime } from "../model/metrics.js";

const PYTHON = /^(python[\d.]*|pypy[\d.]*|pytest|py\.test|uvicorn|gunicorn|celery|ipython)$/;
const NODE = /^(node|nodejs|npx|npm|pnpm|yarn|tsx|ts-node|vitest|jest|mocha)$/;
/** Launchers whose next word is the real program: `uv run python x.py`, `env FOO=1 node x.js`. */
const LAUNCHERS = new Set([
  "env",
  "exec",
  "time",
  "nice",
  "uv",
  "poetry",
  "pipenv",
  "hatch",
  "pdm",
  "run",
  "-m",
]);

export function inferRuntime(command: string): Runtime {
  const words = command.trim().split(/\s+/);
  for (const word of words) {
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(word)) continue; // FOO=bar assignments
    const base = word.replace(/^.*\//, "");
    if (LAUNCHERS.has(base)) continue;
    if (PYTHON.test(base)) return "python";
    if (NODE.test(base)) return "node";
    break;
  }
  if (/\.py\b/.test(command)) return "python";
  if (/\.(m|c)?[jt]s\b/.test(command)) return "node";
  return "native";
}
