// What the workload inherits (issue 28, item 7): no credential of the step unless its scenario asks
// for it by name, and no file descriptor but stdin, stdout and stderr. Through `node dist/cli.js run`
// started by a shell that leaves a file open on fd 7, as a runner may.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { workloadEnv } from "../../src/measure/workload-env.js";

const CLI = resolve("dist/cli.js");
const dir = mkdtempSync(join(tmpdir(), "membudget-workload-env-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the workload's environment", () => {
  it("has no GITHUB_TOKEN, GH_TOKEN or OIDC request token unless the scenario's env asks by name", () => {
    const step = {
      PATH: "/usr/bin",
      GITHUB_TOKEN: "ghs_secret",
      GH_TOKEN: "gho_secret",
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: "oidc",
      NPM_TOKEN: "kept: the user's own",
    };
    expect(workloadEnv({}, step)).toEqual({ PATH: "/usr/bin", NPM_TOKEN: "kept: the user's own" });
    expect(workloadEnv({ GH_TOKEN: "${GH_TOKEN}", X: "1" }, step)).toEqual({
      PATH: "/usr/bin",
      NPM_TOKEN: "kept: the user's own",
      GH_TOKEN: "gho_secret",
      X: "1",
    });
    // A value written out is the value (the budget file said it).
    expect(workloadEnv({ GITHUB_TOKEN: "literal" }, step)["GITHUB_TOKEN"]).toBe("literal");
  });

  it("a real run: the token is gone and fd 7 of membudget's parent is not open in the workload", () => {
    const probe = join(dir, "probe.py");
    writeFileSync(
      probe,
      [
        "import json, os, sys",
        "fds = sorted(int(f) for f in os.listdir('/proc/self/fd'))",
        "json.dump({'token': os.environ.get('GITHUB_TOKEN'), 'fds': fds}, open(sys.argv[1], 'w'))",
        "",
      ].join("\n"),
    );
    writeFileSync(
      join(dir, "membudget.json"),
      JSON.stringify({
        scenarios: {
          p: { run: `python3 ${probe} ${join(dir, "seen.json")}`, repeat: 1, cleanRun: "always" },
        },
      }),
    );
    const r = spawnSync(
      "sh",
      ["-c", `exec 7<${JSON.stringify(probe)}; exec "$0" "$1" run`, process.execPath, CLI],
      {
        cwd: dir,
        encoding: "utf8",
        env: { ...process.env, GITHUB_TOKEN: "ghs_secret", NO_COLOR: "1" },
        timeout: 120_000,
      },
    );
    expect(r.status, r.stderr).toBe(0);
    const seen = JSON.parse(readFileSync(join(dir, "seen.json"), "utf8")) as {
      token: string | null;
      fds: number[];
    };
    expect(seen.token).toBeNull();
    // 0, 1, 2 and the directory listing's own fd.
    expect(seen.fds.filter((fd) => fd > 3)).toEqual([]);
    expect(seen.fds).not.toContain(7);
  });
});

describe("a run that timed out", () => {
  it("is the scenario's last: no clean run follows it (a 1 s timeout costs about 1 s, not 2)", async () => {
    const { measureScenario } = await import("../../src/measure/scenario.js");
    const { runs } = await measureScenario({
      name: "slow",
      run: "sleep 30",
      runtime: "native",
      cwd: dir,
      env: {},
      timeout: 1,
      repeat: 1,
      tolerance: 0.02,
      sites: "never",
      cleanRun: "always",
      budget: { peakRss: 2 ** 30 },
      source: { line: 1, budgetLines: {} },
    });
    expect(runs).toHaveLength(1);
    expect(runs[0]!.timedOut).toBe(true);
  }, 60_000);
});
