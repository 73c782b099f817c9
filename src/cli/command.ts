// The shape of a CLI command: its yargs builder and a handler that returns the exit status.
//
// A command's module holds only its builder; its handler imports the work (handlers/<name>.ts) when
// the command runs, so that starting the CLI loads yargs and the builders and nothing else: the
// bundle splits each handler and what it needs into chunks of their own.
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
