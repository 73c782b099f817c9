// The shape of a CLI command: its yargs builder and a handler that returns the exit status.
//
// A command's module holds only its builder; its handler imports the work (handlers/<name>.ts) when
// the command runs, so that a start runs yargs, the builders and that one command's modules: the
// bundle runs a module at its first import (and the code cache holds what the command compiled).
import type { Argv } from "yargs";

export interface Command<A = object> {
  command: string;
  describe: string;
  builder(y: Argv): Argv<A>;
  handler(argv: A): number | Promise<number>;
}

/** Types a command's handler by its builder. */
export function defineCommand<A>(command: Command<A>): Command<A> {
  return command;
}
