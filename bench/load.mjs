// The cost of a load scenario (docs/load.md): `membudget run` of a service under load against the
// same service driven by the same driver (undici's pool, same rounds and concurrency) without
// membudget. Runs alone (`node bench/load.mjs`, after `npm run build`) and as a section of
// `npm run bench`, which prints what this prints.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Pool } from "undici";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const CLI = join(ROOT, "dist", "cli.js");
const FIXTURES = join(ROOT, "test", "fixtures", "load");
const TMP = mkdtempSync(join(tmpdir(), "membudget-bench-load-"));
const ROUNDS = 3;

const CASES = [
  {
    label: "Python `http.server`, bounded cache",
    run: `python3 ${join(FIXTURES, "leak_server.py")} {port} --bounded`,
    requests: 1200,
    rounds: 6,
    concurrency: 4,
  },
  {
    label: "Node.js `http` server, 128-element array per request",
    run: `node ${join(FIXTURES, "leak_server.mjs")} {port}`,
    requests: 4800,
    rounds: 8,
    concurrency: 4,
  },
];

/** A clean environment: nothing of an outer membudget run. */
const ENV = Object.fromEntries(
  Object.entries(process.env).filter(
    ([k]) =>
      !k.startsWith("MEMBUDGET_") &&
      !["LD_PRELOAD", "PYTHONMALLOC", "PYTHONPATH", "NODE_OPTIONS"].includes(k),
  ),
);

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The service without membudget, driven as membudget's driver does; latencies after warm-up. */
async function bare(c) {
  const port = await freePort();
  const started = performance.now();
  const child = spawn("/bin/sh", ["-c", `exec ${c.run.replaceAll("{port}", String(port))}`], {
    env: ENV,
    stdio: "ignore",
  });
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: c.concurrency, pipelining: 1 });
  try {
    for (;;) {
      try {
        const r = await pool.request({ path: "/health", method: "GET" });
        await r.body.dump();
        if (r.statusCode < 400) break;
      } catch {}
      await sleep(100);
    }
    const per = Math.floor(c.requests / c.rounds);
    const latencies = [];
    let measured = 0;
    let served = 0;
    for (let round = 1; round <= c.rounds; round++) {
      const t0 = performance.now();
      let next = 0;
      const worker = async () => {
        while (next < per) {
          const i = served + next++;
          const sent = performance.now();
          const r = await pool.request({ path: `/items/${i}`, method: "GET" });
          await r.body.dump();
          if (round > 2) latencies.push((performance.now() - sent) / 1000);
        }
      };
      await Promise.all(Array.from({ length: c.concurrency }, worker));
      served += per;
      if (round > 2) measured += (performance.now() - t0) / 1000;
    }
    latencies.sort((a, b) => a - b);
    const q = (p) => latencies[Math.min(latencies.length, Math.max(1, Math.ceil(p * latencies.length))) - 1];
    return {
      seconds: (performance.now() - started) / 1000,
      throughput: (per * (c.rounds - 2)) / measured,
      p50: q(0.5),
      p99: q(0.99),
    };
  } finally {
    await pool.destroy().catch(() => {});
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
  }
}

/** `membudget run` of the same load, repeat 1, no attribution run. */
function measured(c) {
  const file = join(TMP, "membudget.json");
  const report = join(TMP, "report.json");
  const load = {
    ready: "http://127.0.0.1:{port}/health",
    url: "http://127.0.0.1:{port}/items/{i}",
    requests: c.requests,
    rounds: c.rounds,
    concurrency: c.concurrency,
  };
  writeFileSync(file, JSON.stringify({ scenarios: { w: { run: c.run, repeat: 1, sites: "never", load } } }));
  rmSync(report, { force: true });
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [CLI, "run", "--budgets", file, "--report", report], {
    env: ENV,
    encoding: "utf8",
  });
  const seconds = (performance.now() - t0) / 1000;
  const s = JSON.parse(readFileSync(report, "utf8")).scenarios[0];
  if (s.status === "error") throw new Error(`${c.label}: ${s.reason} ${r.stderr.slice(-400)}`);
  const m = s.metrics;
  return {
    seconds,
    throughput: m.throughput.value,
    p50: m.p50Latency.value,
    p99: m.p99Latency.value,
    retained: m.retainedPerRequest?.value,
  };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};
const ms = (s) => `${(s * 1000).toFixed(1)} ms`;
const x = (r) => `${r.toFixed(2)}×`;

export async function loadSection() {
  const lines = [
    "## Load scenarios",
    "",
    `\`membudget run\` of a load scenario (repeat 1, \`sites: never\`) against the same service and the same driver ` +
      `(undici's pool, same rounds and concurrency) without membudget; medians of ${ROUNDS} interleaved pairs. ` +
      "Throughput and latencies are over the rounds after warm-up; wall time is the whole run (start, ready, load, stop).",
    "",
    "| service | requests | throughput bare → membudget | p50 | p99 | wall time | retained per request |",
    "|---|---:|---|---|---|---|---:|",
  ];
  for (const c of CASES) {
    const b = [];
    const m = [];
    for (let i = 0; i < ROUNDS; i++) {
      if (i % 2 === 0) {
        b.push(await bare(c));
        m.push(measured(c));
      } else {
        m.push(measured(c));
        b.push(await bare(c));
      }
    }
    const mb = (k) => median(b.map((r) => r[k]));
    const mm = (k) => median(m.map((r) => r[k]));
    lines.push(
      `| ${c.label} | ${c.requests} | ${mb("throughput").toFixed(0)}/s → ${mm("throughput").toFixed(0)}/s (${x(mb("throughput") / mm("throughput"))} slower) | ${ms(mb("p50"))} → ${ms(mm("p50"))} | ${ms(mb("p99"))} → ${ms(mm("p99"))} | ${mb("seconds").toFixed(2)} s → ${mm("seconds").toFixed(2)} s (${x(mm("seconds") / mb("seconds"))}) | ${mm("retained").toFixed(0)} B |`,
    );
  }
  lines.push("");
  return lines;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    process.stdout.write(`${(await loadSection()).join("\n")}\n`);
  } finally {
    rmSync(TMP, { recursive: true, force: true });
  }
}
