import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { draftScenarios, initialText, scenarioName, schemaReference } from "../../src/config/init.js";
import { parsePlan } from "../../src/config/plan.js";

const repo = (files: Record<string, string>) => {
  const dir = mkdtempSync(join(tmpdir(), "mb-init-"));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  return dir;
};

describe("membudget init: what it proposes", () => {
  it("names a scenario after the script, the module or the program it runs", () => {
    expect(scenarioName("python3 scripts/load.py --rows 9")).toBe("load");
    expect(scenarioName("python -m catalog.cli build")).toBe("catalog.cli");
    expect(scenarioName("./build.sh")).toBe("build");
    expect(scenarioName("FOO=1 node dist/server.mjs")).toBe("server");
    expect(scenarioName("make bench")).toBe("make");
  });

  it("finds a pytest suite by its configuration, else by its tests folder, and adds each command named", () => {
    expect(
      draftScenarios(repo({ "pyproject.toml": "[tool.pytest.ini_options]\ntestpaths = ['t']\n" }), []),
    ).toEqual([
      {
        name: "pytest",
        run: "python3 -m pytest -q -p no:cacheprovider",
        found: "a pytest suite (pyproject.toml)",
        repeat: 1,
        perTest: true,
      },
    ]);
    const dir = repo({ "tests/unit/test_x.py": "def test_x(): pass\n", ".venv/bin/python": "" });
    expect(
      draftScenarios(dir, ["python3 a/load.py", "python3 b/load.py"]).map((d) => [d.name, d.run]),
    ).toEqual([
      ["pytest", ".venv/bin/python -m pytest -q -p no:cacheprovider tests"],
      ["load", "python3 a/load.py"],
      ["load-2", "python3 b/load.py"],
    ]);
    expect(draftScenarios(repo({ "README.md": "" }), [])).toEqual([]);
  });

  it("writes a valid budget file with $schema first and the budgets measured", () => {
    const text = initialText(
      [{ name: "pytest", run: "python3 -m pytest -q", found: "", repeat: 1, perTest: true }],
      [
        { scenario: "pytest", metric: "peakHeap", to: 1, text: "29 MiB", why: "" },
        { scenario: "pytest", metric: "peakHeap", test: "*", to: 1, text: "14.6 MiB", why: "" },
      ],
      "./node_modules/membudget/dist/budgets.schema.json",
    );
    expect(Object.keys(JSON.parse(text))).toEqual(["$schema", "scenarios"]);
    const plan = parsePlan(text, "membudget.json", "/repo/membudget.json");
    expect(plan.scenarios[0]?.tests?.[0]?.pattern).toBe("*");
  });

  it("points $schema at the schema beside the CLI when the project holds it, else at the package's", () => {
    expect(schemaReference("/repo", "/repo/node_modules/membudget/dist/budgets.schema.json")).toBe(
      "./node_modules/membudget/dist/budgets.schema.json",
    );
    expect(schemaReference("/repo", "/opt/membudget/dist/budgets.schema.json")).toBe(
      "./node_modules/membudget/dist/budgets.schema.json",
    );
  });
});
