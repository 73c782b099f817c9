// Milliseconds as performance.now() and performance.timeOrigin give them, without the global
// `performance`: its first use loads node:perf_hooks and its modules, on the way to the workload.

const ORIGIN = process.hrtime.bigint();
/** The wall clock when ORIGIN was read (the analogue of performance.timeOrigin). */
const ORIGIN_EPOCH_MS = Date.now();

/** Monotonic milliseconds since this module loaded. */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint() - ORIGIN) / 1e6;
}

/** Milliseconds since the epoch, on the monotonic clock (sub-millisecond, never going back). */
export function epochMs(): number {
  return ORIGIN_EPOCH_MS + monotonicMs();
}
