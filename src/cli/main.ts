// The membudget command line: one yargs program over the commands in commands/, the same engine as the Action.
import yargs from "yargs";
import { UsageError } from "../model/errors.js";
import { VERSION } from "../model/version.js";
import type { Command } from "./command.js";
import { check } from "./commands/check.js";
import { compare } from "./commands/compare.js";
import { merge } from "./commands/merge.js";
import { run } from "./commands/run.js";
import { update } from "./commands/update.js";
import { validate } from "./commands/validate.js";
import { EXIT, exitCodeForError } from "./exit.js";

// biome-ignore lint/suspicious/noExplicitAny: each command types its own argv through its builder.
const COMMANDS: Command<any>[] = [run, validate, check, compare, update, merge];

/** Runs the CLI on `args` (without node and the script) and returns the exit status. */
export async function main(args: string[]): Promise<number> {
  let code: number = EXIT.ok;
  const cli = yargs(args)
    .scriptName("membudget")
    .version(VERSION)
    .strict()
    .demandCommand(1, "Name a command: run, validate, check, compare, update or merge.")
    .recommendCommands()
    .epilogue(
      "Exit codes: 0 within budget · 1 a budget was broken · 2 bad usage or budget file · 3 a workload failed · 130 cancelled.",
    );
  for (const c of COMMANDS) {
    cli.command(c.command, c.describe, c.builder, async (argv) => {
      code = await c.handler(argv);
    });
  }
  cli
    .fail((message, err) => {
      if (err) throw err;
      throw new UsageError(`${message}\n\nRun \`membudget --help\` for usage.`);
    })
    .help()
    .alias("h", "help")
    // Help is laid out only when asked: yargs caches it on every command, and wrapping costs ~50 ms.
    .wrap(
      args.some((a) => a === "--help" || a === "-h") ? Math.min(110, process.stdout.columns || 100) : null,
    );
  try {
    await cli.parseAsync();
  } catch (err) {
    return exitCodeForError(err);
  }
  return code;
}
