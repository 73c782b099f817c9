// What a command left running when it ended (a background job, a double-forked or setsid daemon):
// found, named, and said in a run note; rsswrap finds and stops them, or run.ts without it.
import { formatSetting, plural } from "../../model/units.js";
import { commandLine, readProcStats } from "./procfs.js";

/** A process the command left running when it ended. */
export interface Leftover {
  pid: number;
  command: string;
}

/**
 * "the command left 2 processes running when it ended: pid 41 `sleep 100`, pid 42 `python d.py`;
 * stopped them with SIGTERM, then SIGKILL after the 5s grace": a daemon the workload started is
 * not part of the measurement, and not something to leave on the machine.
 */
export function leftoverNote(
  left: { count: number; named: Leftover[]; killed: boolean },
  graceMs: number,
): string {
  const names = left.named.map((p) => `pid ${p.pid} \`${shortCommand(p.command) || "?"}\``);
  if (left.count > left.named.length) names.push(`${left.count - left.named.length} more`);
  const what = plural(left.count, "process", "processes");
  const them = left.count === 1 ? "it" : "them";
  const how = left.killed
    ? `SIGTERM, then SIGKILL after the ${formatSetting(graceMs / 1000)} grace`
    : "SIGTERM";
  return `the command left ${what} running when it ended: ${names.join(", ")}; stopped ${them} with ${how}`;
}

/**
 * A command line as the note quotes it: a workload's argv can be any length, so a long one keeps
 * its start (the program) and its end (often what tells two processes apart), cut in the middle.
 */
function shortCommand(command: string): string {
  const text = command.replace(/`/g, "'");
  const chars = [...text];
  if (chars.length <= COMMAND_LIMIT) return text;
  const half = (COMMAND_LIMIT - 1) / 2;
  return `${chars.slice(0, Math.ceil(half)).join("")}…${chars.slice(-Math.floor(half)).join("")}`;
}

/** The most of one command line a note quotes; rsswrap names at most 16 processes. */
const COMMAND_LIMIT = 240;

/** The live processes of a process group, with their command lines. */
export function groupMembers(pgid: number): Leftover[] {
  const out: Leftover[] = [];
  for (const [pid, stat] of readProcStats()) {
    if (stat.pgrp !== pgid || stat.state === "Z" || stat.state === "X") continue;
    out.push({ pid, command: commandLine(pid) });
  }
  return out.sort((a, b) => a.pid - b.pid);
}
