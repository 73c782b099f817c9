// The membudget command line: run · validate · compare · merge, over the same engine as the Action.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import yargs, { type Argv } from "yargs";
import { hideBin } from "yargs/helpers";
import { displayPath, loadPlan } from "../config/load.js";
import { applyBudgetUpdates, budgetUpdates } from "../config/update.js";
import { runPlan } from "../engine/engine.js";
import { CancelledError } from "../measure/scenario.js";
import { BudgetFileError, UsageError } from "../model/errors.js";
import { METRIC_KEYS, METRICS, type MetricKey } from "../model/metrics.js";
import type { Report } from "../model/report.js";
import { formatValue, parsePercent } from "../model/units.js";
import { VERSION } from "../model/version.js";
import { renderMarkdown } from "../render/markdown.js";
import { progressPrinter } from "../render/progress.js";
import { chartFiles } from "../render/svg.js";
import { renderTerminal, wantsColour } from "../render/terminal.js";
import { readReport, writeReport, writeTextFile } from "../report/io.js";
import { mergeReports } from "../report/merge.js";
import { judgeReport } from "../verdict/judge.js";
import { withBudgetsOf } from "../verdict/rebudget.js";
import { EXIT, exitCodeFor, type FailOn } from "./exit.js";

const FAIL_ON = ["over", "regressed", "never"] as const;

function outputs(y: Argv) {
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

function publish(
  report: Report,
  argv: { report?: string; markdown?: string; all?: boolean; chart?: string },
): void {
  if (argv.report) writeReport(argv.report, report);
  if (argv.markdown) writeTextFile(argv.markdown, renderMarkdown(report));
  if (argv.chart) {
    const files = chartFiles(report.scenarios);
    for (const f of files) writeTextFile(join(argv.chart, f.file), f.svg);
    const without = report.scenarios.length - files.length;
    process.stderr.write(
      `membudget: ${files.length === 1 ? "1 chart" : `${files.length} charts`} written to ${argv.chart}${without > 0 ? ` (${without} ${without === 1 ? "scenario has" : "scenarios have"} no timeline)` : ""}\n`,
    );
  }
  process.stdout.write(
    renderTerminal(report, { colour: wantsColour(process.stdout), all: argv.all ?? false }),
  );
}

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
    )
    .command(
      "run",
      "Run the scenarios of a budget file, measure them and check their budgets",
      (y) =>
        outputs(y)
          .option("budgets", {
            alias: "b",
            type: "string",
            default: "membudget.json",
            describe: "The budget file",
          })
          .option("base", { type: "string", describe: "A report of the base (e.g. main) to compare with" })
          .option("only", { type: "array", string: true, describe: "Run only these scenarios (by name)" })
          .option("repeat", { type: "number", describe: "Override every scenario's repeat count" })
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
            "$0 run --base main-report.json --chart charts/",
            "Also draw each scenario's memory over the run",
          ),
      async (argv) => {
        const plan = loadPlan(argv.budgets);
        if (argv.repeat !== undefined) {
          if (!Number.isInteger(argv.repeat) || argv.repeat < 1)
            throw new UsageError("--repeat takes a whole number ≥ 1");
          for (const s of plan.scenarios) s.repeat = argv.repeat;
        }
        const base = argv.base ? readReport(argv.base) : undefined;
        const progress = progressPrinter(process.stderr, argv.verbose);
        // Ctrl-C stops the running workload's whole process group, then membudget itself.
        const cancel = new AbortController();
        const onSignal = () => cancel.abort();
        process.once("SIGINT", onSignal).once("SIGTERM", onSignal);
        const commit = gitHead(dirname(plan.file));
        const report = await runPlan(plan, {
          signal: cancel.signal,
          ...(commit ? { commit } : {}),
          only: argv.only,
          ...(base ? { base, baseSource: displayPath(resolve(argv.base!), process.cwd()) } : {}),
          budgetFileLabel: displayPath(plan.file, process.cwd()),
          ...progress,
        });
        publish(report, argv);
        code = exitCodeFor(report, argv["fail-on"]);
      },
    )
    .command(
      "validate [file]",
      "Check a budget file without running anything",
      (y) =>
        y
          .positional("file", { type: "string", default: "membudget.json", describe: "The budget file" })
          .example("$0 validate", "Check membudget.json")
          .example("$0 validate ci/budgets.json", "Check another file"),
      (argv) => {
        const plan = loadPlan(argv.file);
        const n = plan.scenarios.length;
        process.stdout.write(
          `${displayPath(plan.file, process.cwd())}: valid, ${n} ${n === 1 ? "scenario" : "scenarios"} (${plan.scenarios.map((s) => `${s.name} [${s.runtime}]`).join(", ")})\n`,
        );
      },
    )
    .command(
      "check <file>",
      "Judge a report (e.g. merged from several jobs) against the budget file's current budgets",
      (y) =>
        outputs(y)
          .positional("file", { type: "string", demandOption: true, describe: "The report to check" })
          .option("budgets", {
            alias: "b",
            type: "string",
            default: "membudget.json",
            describe: "The budget file",
          })
          .option("base", { type: "string", describe: "A report of the base, for deltas and regressions" })
          .example("$0 check report.json", "Are the figures within today's budgets?")
          .example(
            "$0 merge shard-*.json -o all.json && $0 check all.json --base main.json",
            "Shards, then one verdict",
          ),
      (argv) => {
        const plan = loadPlan(argv.budgets);
        const measured = withBudgetsOf(readReport(argv.file), plan);
        const base = argv.base ? readReport(argv.base) : undefined;
        const report = judgeReport(base ? { ...measured, base: { source: argv.base! } } : measured, base);
        publish(report, argv);
        code = exitCodeFor(report, argv["fail-on"]);
      },
    )
    .command(
      "compare <base> <head>",
      "Compare two reports: deltas, regressions and budgets, without running anything",
      (y) =>
        outputs(y)
          .positional("base", { type: "string", demandOption: true, describe: "Report of the base" })
          .positional("head", { type: "string", demandOption: true, describe: "Report of the head" })
          .example("$0 compare main.json pr.json", "What the pull request changed")
          .example(
            "$0 compare main.json pr.json --markdown comment.md --fail-on regressed",
            "Write the comment, fail on regressions",
          ),
      (argv) => {
        const base = readReport(argv.base);
        const head = readReport(argv.head);
        const report = judgeReport({ ...head, base: { source: argv.base } }, base);
        publish(report, argv);
        code = exitCodeFor(report, argv["fail-on"]);
      },
    )
    .command(
      "update",
      "Set the budgets from measured figures plus headroom (comments and layout of the file are kept)",
      (y) =>
        y
          .option("budgets", {
            alias: "b",
            type: "string",
            default: "membudget.json",
            describe: "The budget file",
          })
          .option("from", {
            type: "string",
            describe: "Take the figures from this report instead of running",
          })
          .option("headroom", { type: "string", default: "10%", describe: "Added on top of the largest run" })
          .option("metrics", {
            type: "array",
            string: true,
            describe: "Metrics to budget (default: those each scenario already budgets)",
          })
          .option("only", { type: "array", string: true, describe: "Only these scenarios (by name)" })
          .option("dry-run", { type: "boolean", default: false, describe: "Show the changes, write nothing" })
          .example("$0 update", "Run the scenarios, then set each existing budget to the largest run + 10%")
          .example(
            "$0 update --from report.json --headroom 20% --metrics peakHeap allocated",
            "From a report, two metrics",
          ),
      async (argv) => {
        const plan = loadPlan(argv.budgets);
        const headroom = parsePercent(argv.headroom);
        if (headroom === undefined)
          throw new UsageError(`--headroom takes a percentage such as 10%, not "${argv.headroom}"`);
        const metrics = argv.metrics?.flatMap((m) => m.split(",")).map((m) => m.trim());
        for (const m of metrics ?? []) {
          if (!(METRIC_KEYS as readonly string[]).includes(m)) {
            throw new UsageError(`--metrics: no metric "${m}"; the metrics are ${METRIC_KEYS.join(", ")}`);
          }
        }
        const report = argv.from
          ? readReport(argv.from)
          : await runPlan(plan, {
              only: argv.only,
              budgetFileLabel: displayPath(plan.file, process.cwd()),
              ...progressPrinter(process.stderr, false),
            });
        const only = new Set(argv.only ?? []);
        const budgets = new Map(
          plan.scenarios.filter((s) => only.size === 0 || only.has(s.name)).map((s) => [s.name, s.budget]),
        );
        const updates = budgetUpdates(report, budgets, {
          headroom,
          ...(metrics ? { metrics: metrics as MetricKey[] } : {}),
        });
        for (const u of updates) {
          const unit = METRICS[u.metric].unit;
          const from = u.from !== undefined ? formatValue(unit, u.from) : "(none)";
          process.stdout.write(`${u.scenario}  ${u.metric}: ${from} → ${u.text}\n`);
        }
        const failed = report.scenarios.filter((s) => s.status === "error");
        for (const s of failed)
          process.stderr.write(`membudget: ${s.name} not updated: ${s.reason ?? "error"}\n`);
        if (updates.length === 0) process.stdout.write("membudget: every budget already fits\n");
        else if (argv["dry-run"])
          process.stdout.write(`membudget: ${updates.length} budgets would change (dry run)\n`);
        else {
          writeTextFile(plan.file, applyBudgetUpdates(readFileSync(plan.file, "utf8"), updates));
          loadPlan(plan.file); // the rewritten file must still be valid
          process.stdout.write(
            `membudget: ${updates.length} budgets written to ${displayPath(plan.file, process.cwd())}\n`,
          );
        }
        code = failed.length > 0 ? EXIT.workload : EXIT.ok;
      },
    )
    .command(
      "merge <reports..>",
      "Merge reports of separate jobs (e.g. a matrix) into one",
      (y) =>
        y
          .positional("reports", {
            type: "string",
            array: true,
            demandOption: true,
            describe: "Report files",
          })
          .option("output", {
            alias: "o",
            type: "string",
            demandOption: true,
            describe: "The merged report file",
          })
          .example("$0 merge shard-*.json -o report.json", "One report from several jobs"),
      (argv) => {
        const merged = mergeReports(argv.reports.map((f) => readReport(f)));
        writeReport(argv.output, merged);
        process.stdout.write(`${argv.output}: ${merged.scenarios.length} scenarios, ${merged.summary}\n`);
        code = exitCodeFor(merged, "never");
      },
    )
    .fail((message, err, y) => {
      if (err) throw err;
      throw new UsageError(`${message}\n\n${y.help() ? "" : ""}Run \`membudget --help\` for usage.`);
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
    return reportError(err);
  }
  return code;
}

/** The commit the budget file's repository is at, recorded in the report (none outside git). */
function gitHead(dir: string): string | undefined {
  const r = spawnSync("git", ["rev-parse", "--verify", "--quiet", "HEAD"], { cwd: dir, encoding: "utf8" });
  return r.status === 0 && /^[0-9a-f]{40,64}$/.test(r.stdout.trim()) ? r.stdout.trim() : undefined;
}

function reportError(err: unknown): number {
  if (err instanceof CancelledError) {
    process.stderr.write("membudget: cancelled; no report written\n");
    return EXIT.cancelled;
  }
  if (
    err instanceof BudgetFileError ||
    err instanceof UsageError ||
    (err as { code?: string })?.code === "usage"
  ) {
    process.stderr.write(`membudget: ${(err as Error).message}\n`);
    return EXIT.usage;
  }
  process.stderr.write(`membudget: internal error: ${(err as Error)?.stack ?? String(err)}\n`);
  return EXIT.workload;
}

const exitCode = await main(hideBin(process.argv));
process.exitCode = exitCode;
