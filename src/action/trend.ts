// The default branch's stored reports for the trend: the last `trend` push runs' report artifacts.
import * as core from "@actions/core";
import { storedReportsOfBranch } from "../github/artifacts.js";
import { parseReport } from "../report/io.js";
import type { StoredOfBranch } from "../verdict/trend.js";
import { type Settings, storedReportsTarget } from "./inputs.js";

/** Never rejects: without stored reports there is no trend, and the run goes on (said in the log). */
export async function branchReports(
  settings: Settings,
): Promise<{ stored: StoredOfBranch[]; branch: string }> {
  const { github } = settings;
  const branch = github.defaultBranch || github.pullRequest?.baseRef || "";
  if (settings.trend === 0 || !settings.baseArtifact || !branch) return { stored: [], branch };
  try {
    const { reports, missing } = await storedReportsOfBranch(
      storedReportsTarget(settings),
      branch,
      settings.trend,
    );
    if (missing) core.info(`membudget: no trend over ${branch}: ${missing}.`);
    const stored: StoredOfBranch[] = [];
    for (const r of reports) {
      try {
        stored.push({ report: parseReport(r.text, r.file), commit: r.sha, run: r.runUrl });
      } catch (err) {
        core.info(
          `membudget: the report stored by ${r.runUrl} is left out of the trend: ${(err as Error).message}`,
        );
      }
    }
    return { stored, branch };
  } catch (err) {
    core.info(`membudget: no trend over ${branch}: ${(err as Error).message}`);
    return { stored: [], branch };
  }
}
