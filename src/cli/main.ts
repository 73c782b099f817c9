// The membudget command line: one yargs program over the commands in commands/, the same engine as the Action.
import yargs, { type Argv } from "yargs";
import { UsageError } from "../model/errors.js";
import { VERSION } from "../model/version.js";
import type { Command } from "./command.js";
import { check } from "./commands/check.js";
import { compare } from "./commands/compare.js";
import { init } from "./commands/init.js";
import { merge } from "./commands/merge.js";
import { run } from "./commands/run.js";
import { update } from "./commands/update.js";
import { validate } from "./commands/validate.js";
import { EXIT, exitCodeForError } from "./exit.js";

// biome-ignore lint/suspicious/noExplicitAny: each command types its own argv through its builder.
const COMMANDS: Command<any>[] = [run, validate, check, compare, update, merge, init];

/** Runs the CLI on `args` (without node and the script) and returns the exit status. */
export async function main(args: string[]): Promise<number> {
  let code: number = EXIT.ok;
  const helpAsked = args.some((a) => a === "--help" || a === "-h");
  const cli = yargs(args)
    .scriptName("membudget")
    .version(VERSION)
    .strict()
    .demandCommand(1, "Name a command: run, validate, check, compare, update, merge or init.")
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
    .wrap(helpAsked ? Math.min(110, process.stdout.columns || 100) : null);
  if (!helpAsked) skipHelpCache(cli);
  try {
    await cli.parseAsync();
  } catch (err) {
    return exitCodeForError(err);
  }
  return code;
}

/**
 * yargs lays out a command's whole help text as its handler starts, to have it ready should the
 * handler call showHelp(), which ours never do (a failure is an error message and an exit code):
 * that is ~15 ms of text layout on every run, and it loads string-width and cliui. The cache is
 * yargs' internal method; if a later yargs has none, nothing changes.
 */
function skipHelpCache(cli: Argv): void {
  const internals = (cli as unknown as { getInternalMethods?(): { getUsageInstance?(): unknown } })
    .getInternalMethods?.()
    .getUsageInstance?.() as { cacheHelpMessage?: () => void } | undefined;
  if (typeof internals?.cacheHelpMessage === "function") internals.cacheHelpMessage = () => {};
}
