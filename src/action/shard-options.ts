// The `shard` and `balance` inputs as the engine takes them, the same for the head and the base (so their splits agree).
import { costsOf } from "../config/shard.js";
import type { RunOptions } from "../engine/engine.js";
import { readReport } from "../report/io.js";
import type { Settings } from "./inputs.js";
import { workspacePath } from "./workspace.js";

export function shardOptions(settings: Settings): Pick<RunOptions, "shard" | "balance" | "balanceSource"> {
  if (!settings.shard) return {};
  return {
    shard: settings.shard,
    ...(settings.balance
      ? {
          balance: costsOf(readReport(settings.balance)),
          balanceSource: workspacePath(settings, settings.balance),
        }
      : {}),
  };
}
