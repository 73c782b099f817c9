// Builds dist/ once before the suite: the end-to-end tests run the shipped bundle, as users do.
import { execFileSync } from "node:child_process";

export default function setup(): void {
  execFileSync(process.execPath, ["scripts/build.mjs"], { stdio: "inherit" });
}
