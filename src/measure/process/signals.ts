// Signals to processes and groups, never to ourselves, init or everything (-1).
import { constants } from "node:os";

export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  if (pgid > 1) signalPid(-pgid, signal);
}

export function signalPid(pid: number, signal: NodeJS.Signals): void {
  if (pid === process.pid || pid === 0 || pid === 1 || pid === -1) return;
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

export function signalName(n: number): string {
  for (const [name, value] of Object.entries(constants.signals)) if (value === n) return name;
  return `signal ${n}`;
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}
