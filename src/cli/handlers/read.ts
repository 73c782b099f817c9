// Reading a report for a CLI command: the validator of the report schema (~200 KB of code) loads
// only when a command reads one, not on every start.
import type { Report } from "../../model/report.js";

export async function readReport(file: string): Promise<Report> {
  return (await import("../../report/io.js")).readReport(file);
}
