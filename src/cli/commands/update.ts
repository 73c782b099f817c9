// The work of `membudget update` (main.ts imports it when the command runs).
import { readFileSync } from "node:fs";
import { loadPlan } from "../../config/plan.js";
import { select } from "../../config/select.js";
import { applyBudgetUpdates, budgetUpdates, updateRepeat } from "../../config/update.js";
import { runPlan } from "../../engine/engine.js";
import { UsageError } from "../../model/errors.js";
import { BUDGET_KEYS, METRICS, type MetricKey } from "../../model/metrics.js";
import { displayPath } from "../../model/paths.js";
import { formatValue, parsePercent } from "../../model/units.js";
import { progressPrinter } from "../../render/progress.js";
import { writeTextFile } from "../../report/write.js";
import { EXIT } from "../exit.js";

export interface UpdateArgs {
  budgets: string;
  from?: string;
  headroom: string;
  metrics?: string[];
  only?: string[];
  "largest-tests"?: number;
  "dry-run": boolean;
}

export async function updateCommand(argv: UpdateArgs): Promise<number> {
  const plan = loadPlan(argv.budgets);
  const headroom = parsePercent(argv.headroom);
  if (headroom === undefined)
    throw new UsageError(`--headroom takes a percentage such as 10%, not "${argv.headroom}"`);
  const metrics = argv.metrics?.flatMap((m) => m.split(",")).map((m) => m.trim());
  for (const m of metrics ?? []) {
    if (!(BUDGET_KEYS as readonly string[]).includes(m)) {
      throw new UsageError(
        `--metrics: no budgetable metric "${m}"; the metrics are ${BUDGET_KEYS.join(", ")}`,
      );
    }
  }
  if (!argv.from) {
    // A figure that varies from run to run is budgeted from the range of several runs.
    for (const s of plan.scenarios) s.repeat = updateRepeat(s, metrics as MetricKey[] | undefined);
  }
  const report = argv.from
    ? (await import("../../report/io.js")).readReport(argv.from)
    : await runPlan({
        selection: select(plan, argv.only ? { only: argv.only } : {}),
        provenance: { budgetFile: displayPath(plan.file, process.cwd()) },
        hooks: {
          // A metric about to be budgeted is measured as its budget will be (a clean run for RSS).
          ...(metrics ? { measure: metrics as MetricKey[] } : {}),
          ...progressPrinter(process.stderr, false),
        },
      });
  const only = new Set(argv.only ?? []);
  const budgets = new Map(
    plan.scenarios.filter((s) => only.size === 0 || only.has(s.name)).map((s) => [s.name, s]),
  );
  const largestTests = argv["largest-tests"];
  if (largestTests !== undefined && !(Number.isInteger(largestTests) && largestTests >= 0))
    throw new UsageError(`--largest-tests takes a number of tests such as 5, not "${largestTests}"`);
  const { updates, notes } = budgetUpdates(report, budgets, {
    headroom,
    ...(metrics ? { metrics: metrics as MetricKey[] } : {}),
    ...(largestTests ? { largestTests } : {}),
  });
  for (const u of updates) {
    const unit = METRICS[u.metric].unit;
    const from = u.from !== undefined ? formatValue(unit, u.from) : "(none)";
    const where = u.test === undefined ? u.metric : `tests[${JSON.stringify(u.test)}].${u.metric}`;
    process.stdout.write(`${u.scenario}  ${where}: ${from} → ${u.text}  (${u.why})\n`);
  }
  for (const note of notes) process.stderr.write(`membudget: ${note}\n`);
  const failed = report.scenarios.filter((s) => s.status === "error");
  for (const s of failed) process.stderr.write(`membudget: ${s.name} not updated: ${s.reason ?? "error"}\n`);
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
  return failed.length > 0 ? EXIT.workload : EXIT.ok;
}
