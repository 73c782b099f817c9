// Which of a stored base report's scenarios can stand for the base here: those whose figures were
// produced the way the head's were (same command, place, env, interpreter, machine, probes, settings).
import type { ScenarioReport, ScenarioSetup } from "../model/report.js";

export interface Reuse {
  /** Stored scenarios whose figures are the base's, by name. */
  reused: Map<string, ScenarioReport>;
  /** Head scenarios to measure at the base, with why, in a phrase ("its command changed"). */
  measure: Map<string, string>;
}

/**
 * Matches each head scenario against the stored report's scenario of the same name. A scenario that
 * failed at the head is matched without its interpreter (no probe ran to say which it was).
 */
export function reuseStored(head: ScenarioReport[], stored: ScenarioReport[]): Reuse {
  const byName = new Map(stored.map((s) => [s.name, s]));
  const reused = new Map<string, ScenarioReport>();
  const measure = new Map<string, string>();
  for (const h of head) {
    const s = byName.get(h.name);
    const why = !s ? "it is not in the stored report" : mismatch(h, s);
    if (why) measure.set(h.name, why);
    else reused.set(h.name, s!);
  }
  return { reused, measure };
}

/** Why the stored scenario's figures cannot stand for the base, or undefined when they can. */
export function mismatch(head: ScenarioReport, stored: ScenarioReport): string | undefined {
  if (stored.status === "error") return "it failed in the stored run";
  const h = head.setup;
  const s = stored.setup;
  if (!h) return "the head's report does not say how it was measured";
  if (!s) return "the stored report does not say how it was measured (an older membudget)";
  if (h.command !== s.command) return "its command changed";
  if (h.cwd !== s.cwd) return `its working directory changed (${s.cwd} → ${h.cwd})`;
  if (h.runtime !== s.runtime) return `its runtime changed (${s.runtime} → ${h.runtime})`;
  const env = changedKeys(s.env, h.env);
  if (env.length > 0) return `its env changed (${env.join(", ")})`;
  if (head.status !== "error" && (h.interpreter ?? "") !== (s.interpreter ?? "")) {
    return `the interpreter differs (${s.interpreter ?? "none seen"} stored, ${h.interpreter ?? "none seen"} here)`;
  }
  if (h.platform !== s.platform) return `the machine differs (${s.platform} stored, ${h.platform} here)`;
  if (h.probe !== s.probe) return `membudget's probes differ (${s.probe} stored, ${h.probe} here)`;
  const settings = changedKeys(flat(s.settings), flat(h.settings));
  if (settings.length > 0) return `its measurement settings changed (${settings.join(", ")})`;
  return undefined;
}

function flat(settings: ScenarioSetup["settings"]): Record<string, string> {
  return Object.fromEntries(Object.entries(settings).map(([k, v]) => [k, JSON.stringify(v)]));
}

function changedKeys(a: Record<string, string>, b: Record<string, string>): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.filter((k) => a[k] !== b[k]);
}
