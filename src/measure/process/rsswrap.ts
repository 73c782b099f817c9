// rsswrap, the native wrapper that reaps every process of a workload and writes each one's exact peak RSS.
import { nativeTool } from "../native.js";
import type { WrapperExited } from "./ledger.js";
import type { Leftover } from "./leftovers.js";

/** What rsswrap writes to its result file when the workload's tree is gone. */
export interface WrapperResult {
  exitCode: number | null;
  signal: number | null;
  maxRss: number;
  wallTime: number;
  /** Processes still running when the command ended (rsswrap stopped them); the first 16 named. */
  leftoverCount?: number;
  leftovers?: Leftover[];
  /** Some of them outlived SIGTERM and the grace, and were killed. */
  leftoversKilled?: boolean;
  /** With --probe-dir: the processes it reaped that ran Python or Node.js or left figure files. */
  exited?: WrapperExited[];
  /** How many it could not list (past its bound, or out of memory). */
  exitedDropped?: number;
  exitedLost?: boolean;
  /** Why rsswrap could not adopt orphaned processes (PR_SET_CHILD_SUBREAPER), if it could not. */
  notSubreaper?: string;
}

/** The compiled wrapper, or why there is none (then peakRss is sampled from /proc). */
export function wrapper(): { path?: string; unavailable?: string; note?: string } {
  try {
    return nativeTool("rsswrap", "executable");
  } catch (error) {
    return { unavailable: `rsswrap unavailable: ${(error as Error).message}` };
  }
}
