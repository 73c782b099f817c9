// Progress lines while scenarios run, one per run, shared by the CLI (stderr) and the Action (log).

import type { MeasureHooks } from "../measure/scenario.js";
import { showable } from "../model/text.js";
import { formatDuration, formatSize } from "../model/units.js";

export function progressPrinter(stream: NodeJS.WriteStream, verbose: boolean): MeasureHooks {
  const said = new Set<string>();
  const hooks: MeasureHooks = {
    onRun(e) {
      if (e.phase === "start") {
        // A run beside others gets whole lines: another's line would land inside this one.
        if (verbose || !stream.isTTY || e.parallel)
          stream.write(`▸ ${showable(e.scenario)}: run ${e.index}/${e.of}\n`);
        else stream.write(`▸ ${showable(e.scenario)}: run ${e.index}/${e.of} …`);
        return;
      }
      const f = e.run?.figures ?? {};
      // The allocation probe's header inflates RSS: the run's own reading, not a figure of the report.
      const probed =
        e.run?.instrumented && f.allocations !== undefined ? " (under the allocation probe)" : "";
      const parts = [
        f.wallTime !== undefined ? formatDuration(f.wallTime) : undefined,
        f.peakHeap !== undefined ? `peak heap ${formatSize(f.peakHeap)}` : undefined,
        f.peakRss !== undefined ? `peak RSS ${formatSize(f.peakRss)}${probed}` : undefined,
      ].filter(Boolean);
      const text = e.run?.error ? `error: ${showable(e.run.error)}` : parts.join(", ");
      if (verbose || !stream.isTTY || e.parallel)
        stream.write(`  ${showable(e.scenario)}: run ${e.index}/${e.of} done: ${text}\n`);
      else stream.write(`\r\x1b[2K▸ ${showable(e.scenario)}: run ${e.index}/${e.of}: ${text}\n`);
    },
    onAttribution(e) {
      if (e.phase === "start") {
        // tracemalloc with stacks runs the workload several times slower: say so before the wait.
        const took = e.measuredSeconds;
        const guess =
          took !== undefined && took > 0
            ? `, up to ~${formatSeconds(took * 12)} (12× the measured ${formatSeconds(took)})`
            : "";
        stream.write(`▸ ${showable(e.scenario)}: finding the allocation sites (one more run, traced${guess})
`);
      } else if (e.error)
        stream.write(`  ${showable(e.scenario)}: allocation sites unavailable: ${showable(e.error)}
`);
    },
    onNote(note) {
      if (said.has(note)) return;
      said.add(note);
      stream.write(`note: ${showable(note)}\n`);
    },
  };
  if (verbose) {
    hooks.onOutput = (_scenario, stream_, chunk) =>
      (stream_ === "stdout" ? process.stdout : process.stderr).write(chunk);
  }
  return hooks;
}

function formatSeconds(s: number): string {
  return s < 60 ? `${s.toFixed(s < 10 ? 1 : 0)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}
