// The shape of a CLI command: its yargs builder and a handler that returns the exit status.
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
