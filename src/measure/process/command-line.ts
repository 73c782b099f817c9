// A scenario's `run` is a shell command line. Most are a program and its words
// (`python3 bench.py 1000`, `node --expose-gc x.js`, `pytest -q tests/`), which the shell would only
// split at blanks and hand to exec: for those the wrapper execs the words itself, which spares a
// shell process in every run (its fork, exec and start-up under the malloc probe: ~2 ms, and its
// own allocations in the figures). Anything the shell would read differently goes to `/bin/sh -c`:
// quotes, escapes, expansions, globs, redirections, pipes, lists, comments, a leading assignment,
// and a first word that is a reserved word or a builtin (`cd`, `exec`, `ulimit`, `.`, …). Ruby's
// Process.spawn and Kernel#system make the same choice.
import { resolve } from "node:path";

/** Characters that are the same word characters to the shell and to a split at blanks. */
const PLAIN = /^[A-Za-z0-9_./,:+=@%-]+$/;

/**
 * POSIX reserved words and the builtins of dash and bash that a plain word can name (special and
 * regular ones: a builtin runs in the shell, so exec'ing a program of that name would differ).
 */
const SHELL_WORDS = new Set([
  "case",
  "do",
  "done",
  "elif",
  "else",
  "esac",
  "fi",
  "for",
  "function",
  "if",
  "in",
  "select",
  "then",
  "time",
  "until",
  "while",
  ".",
  ":",
  "alias",
  "bg",
  "bind",
  "break",
  "builtin",
  "caller",
  "cd",
  "chdir",
  "command",
  "compgen",
  "complete",
  "continue",
  "declare",
  "dirs",
  "disown",
  "echo",
  "enable",
  "eval",
  "exec",
  "exit",
  "export",
  "false",
  "fc",
  "fg",
  "getopts",
  "hash",
  "help",
  "history",
  "jobs",
  "kill",
  "let",
  "local",
  "logout",
  "mapfile",
  "popd",
  "printf",
  "pushd",
  "pwd",
  "read",
  "readarray",
  "readonly",
  "return",
  "set",
  "shift",
  "shopt",
  "source",
  "test",
  "times",
  "trap",
  "true",
  "type",
  "typeset",
  "ulimit",
  "umask",
  "unalias",
  "unset",
  "wait",
]);

/**
 * The words of `command` when `/bin/sh -c command` would run exactly them (a program and its
 * arguments, split at blanks); undefined when the shell must read it.
 */
export function plainWords(command: string): string[] | undefined {
  const words = command.split(/[ \t]+/).filter((w) => w !== "");
  if (words.length === 0) return undefined;
  if (!words.every((w) => PLAIN.test(w))) return undefined;
  const [program] = words as [string, ...string[]];
  // NAME=value before the program is an assignment to the shell, not a program to run.
  if (program.includes("=") || SHELL_WORDS.has(program)) return undefined;
  return words;
}

/**
 * What rsswrap is given to run `command` in `cwd`: the plain words themselves, with the PWD the
 * shell would have exported (the directory it runs in), or `/bin/sh -c command`. rsswrap gives a
 * program it cannot exec the shell's exit codes (127: not found, 126: not executable).
 */
export function wrappedCommand(
  command: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
): { argv: string[]; env: NodeJS.ProcessEnv } {
  const words = plainWords(command);
  const argv = words ?? ["/bin/sh", "-c", command];
  let wrapperEnv = words ? { ...env, PWD: resolve(cwd) } : env;
  // The wrapper is our instrument, not the workload: it hands LD_PRELOAD to the workload only
  // (as MEMBUDGET_PRELOAD), so that the malloc probe does not count the wrapper's own allocations.
  if (wrapperEnv["LD_PRELOAD"] !== undefined) {
    const { LD_PRELOAD, ...rest } = wrapperEnv;
    wrapperEnv = { ...rest, MEMBUDGET_PRELOAD: LD_PRELOAD };
  }
  return { argv, env: wrapperEnv };
}
