// The work of `membudget init` (main.ts imports it when the command runs): find the
// scenarios, measure each once, write the first budget file with update's headroom rule.
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { draftScenarios, draftText, INIT_METRICS, initialText, schemaReference } from "../../config/init.js";
import { loadPlan, parsePlan } from "../../config/plan.js";
import { select } from "../../config/select.js";
import { budgetUpdates } from "../../config/update.js";
import { runPlan } from "../../engine/engine.js";
import { probeDir } from "../../measure/probe-files.js";
import { UsageError } from "../../model/errors.js";
import { displayPath } from "../../model/paths.js";
import { parsePercent } from "../../model/units.js";
import { progressPrinter } from "../../render/progress.js";
import { writeTextFile } from "../../report/write.js";
import { EXIT } from "../exit.js";

export interface InitArgs {
  budgets: string;
  commands?: string[];
  headroom: string;
  "dry-run": boolean;
}

export async function initCommand(argv: InitArgs): Promise<number> {
  const file = resolve(argv.budgets);
  const shown = displayPath(file, process.cwd());
  if (existsSync(file)) {
    throw new UsageError(
      `${shown} exists already: \`membudget update\` sets its budgets from a new run, \`membudget validate\` checks it`,
    );
  }
  const headroom = parsePercent(argv.headroom);
  if (headroom === undefined)
    throw new UsageError(`--headroom takes a percentage such as 10%, not "${argv.headroom}"`);
  const dir = dirname(file);
  const drafts = draftScenarios(dir, argv.commands ?? []);
  if (drafts.length === 0) {
    throw new UsageError(
      `no pytest suite found in ${dir === process.cwd() ? "this folder" : displayPath(dir, process.cwd())} (pytest.ini, pyproject.toml's [tool.pytest.ini_options], tests/): name the commands to measure, e.g. membudget init "python3 scripts/load.py"`,
    );
  }
  const plan = parsePlan(draftText(drafts), shown, file);
  // Measured once: the heap figures of Python and native programs are the same on every run.
  for (const s of plan.scenarios) s.repeat = 1;
  const out = process.stdout;
  out.write(
    `membudget: measuring ${drafts.length === 1 ? "1 scenario" : `${drafts.length} scenarios`} once\n`,
  );
  const report = await runPlan({
    selection: select(plan, {}),
    provenance: { budgetFile: shown },
    hooks: progressPrinter(process.stderr, false),
  });
  const failed = report.scenarios.filter((s) => s.status === "error");
  const kept = drafts.filter((d) => !failed.some((s) => s.name === d.name));
  const { updates } = budgetUpdates(report, new Map(plan.scenarios.map((s) => [s.name, s])), {
    headroom,
    metrics: [...INIT_METRICS],
  });
  const schema = schemaReference(dir, shippedSchema());
  const text = initialText(kept, updates, schema);
  if (kept.length > 0 && !argv["dry-run"]) {
    writeTextFile(file, text);
    loadPlan(file); // what was written must load
  }
  out.write(argv["dry-run"] ? `\n${text}\n` : `\nWrote ${shown}:\n`);
  for (const d of kept) {
    out.write(`  ${d.name}  (${d.found}): ${d.run}\n`);
    for (const u of updates.filter((u) => u.scenario === d.name)) {
      const where = u.test === undefined ? u.metric : `tests["${u.test}"].${u.metric}`;
      out.write(`    ${where}: ${u.text}  (${u.why})\n`);
    }
  }
  for (const s of failed) {
    out.write(`  ${s.name}: left out, its run failed: ${s.reason ?? "error"}\n`);
  }
  out.write("\nReview:\n");
  const review = [
    "each command: it is what CI will measure, so give it the inputs of a real run (data size, flags)",
    `the budgets: one run plus ${argv.headroom} (a figure that varies from run to run gets more); \`membudget run\` checks them, \`membudget update\` sets them again after an intended change`,
    ...(kept.some((d) => d.perTest)
      ? [
          'pytest: every test shares one peak-heap budget ("*"), the largest test\'s; `membudget update --largest-tests 5` gives the five largest their own',
        ]
      : []),
    ...(schema.startsWith("./node_modules/") && !existsSync(join(dir, schema))
      ? [`"$schema" points at ${schema}: install membudget as a dev dependency for completion in editors`]
      : []),
    "then add the workflow of the README's Quick start (.github/workflows/membudget.yml)",
  ];
  for (const line of review) out.write(`  - ${line}\n`);
  return failed.length > 0 ? EXIT.workload : EXIT.ok;
}

/** The budget schema shipped beside this CLI (dist/budgets.schema.json), or the source's under test. */
function shippedSchema(): string | undefined {
  const probes = probeDir();
  return [
    join(probes, "..", "budgets.schema.json"),
    join(probes, "..", "..", "config", "budgets.schema.json"),
  ].find((p) => existsSync(p));
}
