// The shards benchmark: 500 scenarios measured as 10 shard reports, merged by the built CLI into one
// comment. Says how long the merge takes and whether the comment fits GitHub's 65,536 characters.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const COMMENT_LIMIT = 65_536;
const SCENARIOS = 500;
const SHARDS = 10;
const OVER = 60;

/**
 * Shard reports as `run --shard i/10` writes them, made from one real measured scenario copied 500
 * times (the figures vary; 60 are over budget, each with its timeline, so they all need attention).
 */
export function shardReports({ dir, measured }) {
  const template = measured.scenarios[0];
  const names = Array.from({ length: SCENARIOS }, (_, i) => `scenario-${String(i).padStart(3, "0")}`);
  // The name-based split: round-robin over the names in code-point order.
  const assigned = names.map((_, i) => (i % SHARDS) + 1);
  const files = [];
  for (let index = 1; index <= SHARDS; index++) {
    const scenarios = names
      .map((name, i) => ({ name, i }))
      .filter(({ i }) => assigned[i] === index)
      .map(({ name, i }) => {
        const s = structuredClone(template);
        s.name = name;
        const heap = s.metrics.peakHeap;
        heap.value = heap.min = heap.max = heap.value * (1 + i / SCENARIOS);
        heap.budget = i < OVER ? heap.value / 2 : heap.value * 2;
        return s;
      });
    const report = {
      ...structuredClone(measured),
      budgetDigest: `sha256:${"0".repeat(64)}`,
      shard: { index, total: SHARDS, selected: names, assigned },
      scenarios,
    };
    const file = join(dir, `shard-${index}.json`);
    writeFileSync(file, JSON.stringify(report));
    files.push(file);
  }
  return files;
}

/** What the comment says it left out, in its own words. */
export function foldedSentences(comment) {
  return comment
    .split("\n")
    .filter((l) => /^…and \d+ more|not shown:|are left out:|<summary>\d+ other|<summary>All \d+/.test(l))
    .map((l) =>
      l
        .replace(/\(http[^)]*\)/g, "")
        .replace(/<\/?[a-z]+>/g, "")
        .trim(),
    );
}

export function commentOf(file) {
  return readFileSync(file, "utf8");
}

export const SHARD_BENCH = { SCENARIOS, SHARDS, OVER, COMMENT_LIMIT };
