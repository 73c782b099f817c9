// Annotations on the budget file: an error at the line of each broken budget, a warning per regression.
import { describe, expect, it } from "vitest";
import { annotationsOf } from "../../src/render/annotations.js";
import { regressedPullRequest } from "../helpers/regressed-pr.js";
import { MiB, report } from "../helpers/reports.js";

describe("annotationsOf", () => {
  it("puts an over-budget figure at its budget's line, a regression as a warning, a failure at its scenario", () => {
    const base = report([{ name: "grows", runs: [{ allocations: 100_000 }] }]);
    const r = report(
      [
        { name: "fat", runs: [{ peakHeap: 70 * MiB }], budget: { peakHeap: 64 * MiB } },
        { name: "grows", runs: [{ allocations: 150_000 }], budget: { allocations: 1e6 } },
        { name: "crash", runs: [{}], error: "exited with code 1" },
        { name: "fine", runs: [{ peakHeap: 1 * MiB }], budget: { peakHeap: 64 * MiB } },
      ],
      base,
    );
    r.scenarios[0]!.source = { line: 3, budgetLines: { peakHeap: 5 } };
    const annotations = annotationsOf(r, "ci/membudget.json");
    expect(annotations).toEqual([
      {
        level: "error",
        file: "ci/membudget.json",
        line: 5,
        title: "membudget: fat over budget (peak heap)",
        message: "peak heap 70.0 MiB is over its budget of 64.0 MiB",
      },
      {
        level: "warning",
        file: "ci/membudget.json",
        line: 3,
        title: "membudget: grows regressed (allocations)",
        message: "allocations grew from 100.0 k to 150.0 k, more than the 2.0% tolerance",
      },
      {
        level: "error",
        file: "ci/membudget.json",
        line: 3,
        title: "membudget: crash failed",
        message: "exited with code 1",
      },
    ]);
  });
});

describe("annotations where the code is", () => {
  const r = regressedPullRequest();
  const all = annotationsOf(r, "membudget.json");

  it("puts a test over its budget at the test's definition line, as an error", () => {
    expect(all.filter((a) => a.file.endsWith("test_catalog.py"))).toEqual([
      {
        level: "error",
        file: "examples/python/pytest/tests/test_catalog.py",
        line: 12,
        title: "membudget: test_load_catalog over budget (pytest-catalog)",
        message:
          "examples/python/pytest/tests/test_catalog.py::test_load_catalog: peak heap 26.0 MiB is over its budget of 24.0 MiB",
      },
      {
        level: "error",
        file: "examples/python/pytest/tests/test_catalog.py",
        line: 30,
        title: "membudget: test_parse_rows over budget (pytest-catalog)",
        message:
          "examples/python/pytest/tests/test_catalog.py::test_parse_rows: peak heap 2.4 MiB is over its budget of 2.0 MiB",
      },
    ]);
  });

  it("puts a notice on each line of the repository's code that grew, none on a library's", () => {
    expect(all.filter((a) => a.level === "notice")).toEqual([
      {
        level: "notice",
        file: "examples/python/catalog.py",
        line: 61,
        title: "membudget: catalog-dicts grew here",
        message: "held here at the peak: 18.0 MiB, new against the base in build_lookup",
      },
      {
        level: "notice",
        file: "examples/python/catalog.py",
        line: 44,
        title: "membudget: catalog-dicts grew here",
        message: "held here at the peak: 30.0 MiB → 31.0 MiB (+3.3%) in read_rows",
      },
    ]);
  });

  it("makes no warning for a metric without a budget, however much it grew", () => {
    // catalog-dicts' GC collections (+233 %), allocations and PSS grew: nobody budgeted them.
    expect(all.filter((a) => a.level === "warning").map((a) => a.title)).toEqual([
      "membudget: catalog-dicts regressed (allocated)",
      "membudget: catalog-dicts regressed (peak RSS)",
      "membudget: ingest regressed (allocations)",
    ]);
  });
});
