// The membudget command line: one yargs program over the commands table below, the same engine as the Action.
import yargs, { type Argv } from "yargs";
import { UsageError } from "../model/errors.js";
import { FAIL_ON, type FailOn } from "../model/status.js";
import { VERSION } from "../model/version.js";
import { EXIT, exitCodeForError } from "./exit.js";

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
    // Help is laid out only when asked: yargs caches it on every command, and wrapping is slow.
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
 * text layout on every run, for nothing, and it loads string-width and cliui. The cache is
 * yargs' internal method; if a later yargs has none, nothing changes.
 */
function skipHelpCache(cli: Argv): void {
  const internals = (cli as unknown as { getInternalMethods?(): { getUsageInstance?(): unknown } })
    .getInternalMethods?.()
    .getUsageInstance?.() as { cacheHelpMessage?: () => void } | undefined;
  if (typeof internals?.cacheHelpMessage === "function") internals.cacheHelpMessage = () => {};
}

/** A command: its yargs builder, and a handler that imports the command's work when it runs. */
interface Command<A = object> {
  command: string;
  describe: string;
  builder(y: Argv): Argv<A>;
  handler(argv: A): number | Promise<number>;
}

/** Types a command's handler by its builder. */
const command = <A>(c: Command<A>): Command<A> => c;

/**
 * Every command, in the order of the help. A handler imports its work (commands/<name>.ts) when the
 * command runs, so that a start runs yargs, these builders and that one command's modules (the
 * bundle runs a module at its first import).
 */
// biome-ignore lint/suspicious/noExplicitAny: each command types its own argv through its builder.
const COMMANDS: Command<any>[] = [
  command({
    command: "run",
    describe: "Run the scenarios of a budget file, measure them and check their budgets",
    builder: (y) =>
      budgetsOption(outputOptions(y))
        .option("base", { type: "string", describe: "A report of the base (e.g. main) to compare with" })
        .option("only", { type: "array", string: true, describe: "Run only these scenarios (by name)" })
        .option("repeat", { type: "number", describe: "Override every scenario's repeat count" })
        .option("clean-run", {
          type: "boolean",
          describe:
            'With one repeat, give every Python or native scenario its clean run (time and RSS measured), as "cleanRun": "always"',
        })
        .option("shard", {
          type: "string",
          describe:
            "Measure only shard i of n of the selected scenarios (i/n, e.g. 2/4); `merge` joins the shards",
        })
        .option("balance", {
          type: "string",
          describe: "A report made earlier: split the shards by its wall times (needs --shard)",
        })
        .option("jobs", {
          alias: "j",
          type: "number",
          describe:
            "Probed runs (heap figures, which do not depend on timing) measured side by side; runs that give time or RSS always run alone (default: the CPU count; 1 with --verbose)",
        })
        .option("verbose", {
          alias: "v",
          type: "boolean",
          default: false,
          describe: "Stream the workloads' output",
        })
        .example("$0 run", "Run membudget.json in this directory")
        .example(
          "$0 run -b budgets.json --report out/report.json --markdown out/comment.md",
          "Also write the report and the markdown table",
        )
        .example(
          "$0 run --base main-report.json --fail-on regressed",
          "Fail when a figure grew past its tolerance against main",
        )
        .example("$0 run --only load-catalog -v", "One scenario, with its output")
        .example(
          "$0 run --shard 2/4 --balance last-report.json --report shard-2.json",
          "The second of four shards, balanced by the last run's wall times",
        )
        .example(
          "$0 run --base main-report.json --chart charts/",
          "Also draw each scenario's memory over the run",
        ),
    handler: async (argv) => (await import("./commands/run.js")).runCommand(argv),
  }),
  command({
    command: "validate [file]",
    describe: "Check a budget file without running anything",
    builder: (y) =>
      y
        .positional("file", { type: "string", default: "membudget.json", describe: "The budget file" })
        .example("$0 validate", "Check membudget.json")
        .example("$0 validate ci/budgets.json", "Check another file"),
    handler: async (argv) => (await import("./commands/validate.js")).validateCommand(argv),
  }),
  command({
    command: "check <file>",
    describe: "Judge a report (e.g. merged from several jobs) against the budget file's current budgets",
    builder: (y) =>
      budgetsOption(outputOptions(y))
        .positional("file", { type: "string", demandOption: true, describe: "The report to check" })
        .option("base", { type: "string", describe: "A report of the base, for deltas and regressions" })
        .example("$0 check report.json", "Are the figures within today's budgets?")
        .example(
          "$0 merge shard-*.json -o all.json --fail-on never && $0 check all.json --base main.json",
          "Shards, then one verdict",
        ),
    handler: async (argv) =>
      (await import("./commands/check.js")).checkCommand({ ...argv, file: argv.file as string }),
  }),
  command({
    command: "compare <base> <head>",
    describe: "Compare two reports: deltas, regressions and budgets, without running anything",
    builder: (y) =>
      outputOptions(y)
        .positional("base", { type: "string", demandOption: true, describe: "Report of the base" })
        .positional("head", { type: "string", demandOption: true, describe: "Report of the head" })
        .example("$0 compare main.json pr.json", "What the pull request changed")
        .example(
          "$0 compare main.json pr.json --markdown comment.md --fail-on regressed",
          "Write the comment, fail on regressions",
        ),
    handler: async (argv) =>
      (await import("./commands/compare.js")).compareCommand({
        ...argv,
        base: argv.base as string,
        head: argv.head as string,
      }),
  }),
  command({
    command: "update",
    describe:
      "Set the budgets from measured figures plus headroom (comments and layout of the file are kept)",
    builder: (y) =>
      budgetsOption(y)
        .option("from", { type: "string", describe: "Take the figures from this report instead of running" })
        .option("headroom", {
          type: "string",
          default: "10%",
          describe:
            "Added on top of the largest run (a figure that varies from run to run gets more: see the README); rounded up by at most 2%",
        })
        .option("metrics", {
          type: "array",
          string: true,
          describe: "Metrics to budget (default: those each scenario already budgets)",
        })
        .option("only", { type: "array", string: true, describe: "Only these scenarios (by name)" })
        .option("largest-tests", {
          type: "number",
          describe:
            "pytest scenarios: also write a budget of its own for each of the N tests with the largest peak heap",
        })
        .option("dry-run", { type: "boolean", default: false, describe: "Show the changes, write nothing" })
        .example("$0 update", "Run the scenarios, then set each existing budget to the largest run + 10%")
        .example(
          "$0 update --from report.json --headroom 20% --metrics peakHeap allocated",
          "From a report, two metrics",
        ),
    handler: async (argv) => (await import("./commands/update.js")).updateCommand(argv),
  }),
  command({
    command: "init [commands..]",
    describe:
      "Write a first budget file: the pytest suite and the commands named, each measured once and budgeted",
    builder: (y) =>
      budgetsOption(y)
        .positional("commands", {
          type: "string",
          array: true,
          describe: "Commands to measure, one scenario each (quote each command)",
        })
        .option("headroom", {
          type: "string",
          default: "10%",
          describe: "Added on top of the measured figure, as update does",
        })
        .option("dry-run", {
          type: "boolean",
          default: false,
          describe: "Measure and show the file, write nothing",
        })
        .example("$0 init", "Find the pytest suite, measure it, write membudget.json")
        .example(
          '$0 init "python3 scripts/load.py --rows 100000" "node build.js"',
          "Two commands of your own",
        ),
    handler: async (argv) => (await import("./commands/init.js")).initCommand(argv),
  }),
  command({
    command: "merge <reports..>",
    describe: "Merge reports of separate jobs (e.g. the shards of a matrix) into one, and judge it",
    builder: (y) =>
      outputOptions(y)
        .positional("reports", { type: "string", array: true, demandOption: true, describe: "Report files" })
        .option("output", {
          alias: "o",
          type: "string",
          describe: "The merged report file (same as --report)",
        })
        .example("$0 merge shard-*.json -o report.json", "One report from several jobs")
        .example(
          "$0 merge shards/*/membudget-report.json -o report.json --markdown comment.md",
          "Shards of `run --shard i/n`: every shard must be there (exit 3 names a missing one)",
        ),
    handler: async (argv) =>
      (await import("./commands/merge.js")).mergeCommand({ ...argv, reports: argv.reports as string[] }),
  }),
];

/** Where the budget file is: the commands that read one. */
function budgetsOption<T>(y: Argv<T>) {
  return y.option("budgets", {
    alias: "b",
    type: "string",
    default: "membudget.json",
    describe: "The budget file",
  });
}

function outputOptions<T>(y: Argv<T>) {
  return y
    .option("report", { type: "string", describe: "Write the JSON report to this file" })
    .option("markdown", {
      type: "string",
      describe: "Write the markdown table (the PR comment's form) to this file",
    })
    .option("fail-on", {
      choices: FAIL_ON,
      default: "over" as FailOn,
      describe: "What fails the command (exit 1)",
    })
    .option("all", {
      type: "boolean",
      default: false,
      describe: "Show every measured metric, not only budgeted ones",
    })
    .option("chart", {
      type: "string",
      describe: "Write an SVG chart of each scenario's memory over the run (base dashed) into this directory",
    });
}
