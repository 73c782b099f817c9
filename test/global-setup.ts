// Builds dist/ once before the suite (the end-to-end tests run the shipped bundle, as users do),
// and gives the suite a temporary directory of its own: every test's scratch files, and those of
// the workloads and membudget processes it starts, go there (TMPDIR is inherited), and the whole
// directory goes when the suite ends, whatever a test left behind.
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export default function setup(): () => void {
  execFileSync(process.execPath, ["scripts/build.mjs"], { stdio: "inherit" });
  const saved = process.env["TMPDIR"];
  const root = mkdtempSync(join(tmpdir(), "membudget-tests-"));
  process.env["TMPDIR"] = root;
  return () => {
    if (saved === undefined) delete process.env["TMPDIR"];
    else process.env["TMPDIR"] = saved;
    rmSync(root, { recursive: true, force: true });
  };
}
