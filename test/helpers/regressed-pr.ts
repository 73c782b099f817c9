// A pull request that regresses two scenarios of five, as a new user's first membudget comment
// would show it: a catalog over its peak-heap budget (with figures nobody budgeted moving too), a
// pytest suite with two tests over their budgets, an ingest within budget but regressed.
import type { TestRule } from "../../src/config/types.js";
import type { MetricKey } from "../../src/model/metrics.js";
import type { TestReport } from "../../src/model/pytest.js";
import type { Report, TimelinePoint } from "../../src/model/report.js";
import { judge } from "../../src/verdict/judge.js";
import { MiB, report } from "./reports.js";

type Figures = Partial<Record<MetricKey, number>>;

function timeline(seconds: number, rss: number, heap: number, leak = 1): TimelinePoint[] {
  return Array.from({ length: 120 }, (_, i) => {
    const f = i / 119;
    const ramp = Math.min(1, f * 1.6) * (0.6 + 0.4 * leak * f);
    return { t: f * seconds, rss: 30 * MiB + ramp * (rss - 30 * MiB), heap: ramp * heap };
  });
}

function test(id: string, peak: number, line: number): TestReport {
  return {
    id,
    outcome: "passed",
    status: "pass",
    location: { file: id.split("::")[0]!, line },
    metrics: {
      peakHeap: {
        value: peak,
        min: peak,
        max: peak,
        spread: 0,
        runs: 1,
        kind: "exact",
        deterministic: true,
        status: "unbudgeted",
      },
    },
  } as TestReport;
}

const T = "examples/python/pytest/tests";

function side(head: boolean): Report {
  const k = head ? 1 : 0;
  const catalog: Figures = {
    peakHeap: (48 + 18.2 * k) * MiB,
    allocated: (110 + 13 * k) * MiB,
    allocations: 1_200_000 + 600_000 * k,
    peakRss: (109 + 95 * k) * MiB,
    peakPss: (100 + 40 * k) * MiB,
    gcCollections: 12 + 28 * k,
    wallTime: 3.0 + 0.2 * k,
  };
  const r = report([
    {
      name: "catalog-dicts",
      runs: [catalog, { ...catalog, peakRss: catalog.peakRss! * 1.01, wallTime: 3.1 + 0.2 * k }],
    },
    { name: "catalog-slots", runs: [{ peakHeap: 31 * MiB, allocated: 70 * MiB, peakRss: 90 * MiB }] },
    {
      name: "ingest",
      runs: [{ peakHeap: 2.1 * MiB, allocations: 5_100_000 + 300_000 * k, allocationRate: 900e6 }],
    },
    {
      name: "pytest-catalog",
      runs: [{ peakHeap: (26 + 6 * k) * MiB, allocated: 400 * MiB, gcCollections: 30 + 9 * k }],
    },
    {
      name: "node-sessions",
      runs: [
        { peakHeap: 40 * MiB, peakRss: 120 * MiB },
        { peakHeap: 41 * MiB, peakRss: 121 * MiB },
      ],
    },
  ]);
  const [dicts, , ingest, suite] = r.scenarios;
  // The ingest keeps what it read, round after round: the retained heap climbs from 40 MiB.
  ingest!.load = {
    driver: "http",
    requests: 600,
    concurrency: 4,
    rounds: 6,
    warmup: 1,
    run: 1,
    leak: head,
    floor: 16,
    why: head ? "the retained heap grew in every round after warm-up, 20.8 KiB per request" : "not a leak",
    perRound: [1, 2, 3, 4, 5, 6].map((round) => ({
      round,
      requests: round * 100,
      retained: 40 * MiB + (head ? round * 2.05 * MiB : (round % 2) * 64 * 1024),
      errors: 0,
      seconds: 0.4,
    })),
  };
  dicts!.timeline = timeline(3.1, (132 + 110 * k) * MiB, (48 + 18 * k) * MiB);
  dicts!.source = { line: 5, budgetLines: { peakHeap: 8, allocated: 8, peakRss: 8, wallTime: 8 } };
  dicts!.sites = {
    peak: [
      { location: "examples/python/catalog.py:44", function: "read_rows", bytes: (30 + k) * MiB },
      ...(head
        ? [{ location: "examples/python/catalog.py:61", function: "build_lookup", bytes: 18 * MiB }]
        : []),
      { location: "<stdlib>/json/decoder.py:353", function: "raw_decode", bytes: (4 + k) * MiB },
    ],
  };
  suite!.tests = [
    test(`${T}/test_catalog.py::test_load_catalog`, (20 + 6 * k) * MiB, 12),
    test(`${T}/test_catalog.py::test_parse_rows`, (1.5 + 0.9 * k) * MiB, 30),
    test(`${T}/test_catalog.py::test_small`, 0.2 * MiB, 41),
    test(`${T}/test_search.py::test_index`, 1.1 * MiB, 8),
  ];
  suite!.testSummary = { total: 4, over: 0, regressed: 0, new: 0, removed: 0 };
  return r;
}

const rules: TestRule[] = [
  { pattern: `${T}/test_catalog.py::test_load_catalog`, budget: { peakHeap: 24 * MiB }, line: 30 },
  { pattern: `${T}/*::*`, budget: { peakHeap: 2 * MiB }, line: 31 },
];

const budgets = new Map([
  [
    "catalog-dicts",
    {
      budget: { peakHeap: 64 * MiB, allocated: 128 * MiB, peakRss: 256 * MiB, wallTime: 30 },
      tolerance: 0.02,
      source: { line: 5, budgetLines: { peakHeap: 8, allocated: 8, peakRss: 8, wallTime: 8 } },
    },
  ],
  [
    "catalog-slots",
    { budget: { peakHeap: 48 * MiB, allocated: 96 * MiB, peakRss: 160 * MiB }, tolerance: 0.02 },
  ],
  ["ingest", { budget: { peakHeap: 4 * MiB, allocations: 6_000_000 }, tolerance: 0.02 }],
  ["pytest-catalog", { budget: {}, tolerance: 0.02, tests: rules }],
  ["node-sessions", { budget: { peakHeap: 64 * MiB, peakRss: 192 * MiB }, tolerance: 0.02 }],
]);

/** The judged report of the regressed pull request, against its judged base. */
export function regressedPullRequest(): Report {
  const base = judge(side(false), { budgets });
  const head = side(true);
  return judge(
    {
      ...head,
      commit: "5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e",
      base: { source: "base" },
      links: {
        repository: "https://github.com/acme/shop",
        run: "https://github.com/acme/shop/actions/runs/1",
      },
    },
    { budgets, base: { ...base, commit: "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567" } },
  );
}
