// The shell line a workload's command runs as: `/bin/sh -c <command>`, with `exec` in front when the
// command is one simple command, so that the shell replaces itself with the program instead of
// forking it and waiting (a process and ~2 ms less per run, and the tree is the user's program).

/** Characters a simple command may hold: words, paths, options, plain assignments, no quoting. */
const PLAIN = /^[A-Za-z0-9_./:=@%+,\s-]+$/;

/** Words that are the shell's own: `exec` cannot run them. */
const SHELL_WORDS = new Set(
  (
    ". : break continue eval exec exit export readonly return set shift times trap unset cd alias unalias " +
    "umask wait read getopts command type hash ulimit jobs fg bg local if then else elif fi while until " +
    "for do done case esac in"
  ).split(" "),
);

export function shellLine(command: string): string {
  if (!PLAIN.test(command) || command.includes("\n")) return command;
  const words = command.trim().split(/\s+/);
  const first = words.find((w) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(w));
  if (first === undefined || SHELL_WORDS.has(first)) return command;
  // Assignments stay before `exec`, where the shell applies them to the program it becomes.
  const at = words.indexOf(first);
  return [...words.slice(0, at), "exec", ...words.slice(at)].join(" ");
}
