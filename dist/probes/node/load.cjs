// membudget's Node.js load probe: preloaded after probe.cjs into the main thread of every Node
// process of a load scenario (MEMBUDGET_LOAD=1, docs/load.md), it answers the runner at each
// round's end on a Unix socket, $MEMBUDGET_OUT_DIR/<pid>.load.sock, one command per connection:
//   "retained\n"  → a forced full GC, then {"pid", "retained": V8's used heap after it}
//   "mark\n"      → a forced full GC, then V8's sampling heap profiler starts (the first
//                   instrumented run, or an attribution run)
//   "sites N\n"   → a forced full GC, then the N sites holding most of what was sampled since
//                   "mark" and is still alive: what the rounds since warm-up kept, by line
// Like probe.cjs it must never change what the workload does: no output, nothing that keeps the
// event loop alive, every failure costs only its own answer.
"use strict";

(() => {
  const outDir = process.env.MEMBUDGET_OUT_DIR;
  if (!outDir || process.env.MEMBUDGET_LOAD !== "1") return;
  const LOADED = Symbol.for("membudget.node-load-probe");
  if (globalThis[LOADED]) return;
  Object.defineProperty(globalThis, LOADED, { value: true, enumerable: false });

  let fs;
  let net;
  let path;
  let v8;
  let inspector;
  try {
    if (require("node:worker_threads").threadId !== 0) return; // a worker's heap is its own isolate
    fs = require("node:fs");
    net = require("node:net");
    path = require("node:path");
    v8 = require("node:v8");
    inspector = require("node:inspector");
  } catch {
    return;
  }

  // V8 drops the bytecode of functions that have not run for a few full collections, and the
  // forced ones at round ends age it quickly: hundreds of KiB freed at once, in the middle of the
  // rounds, would read as the service giving memory back. Kept, it is a constant.
  try {
    v8.setFlagsFromString("--no-flush-bytecode");
  } catch {}

  /** One sample per 8 KiB allocated: enough to name a line that keeps a KiB per request (the
      interval the report states, LOAD_SAMPLE_INTERVAL in src/model/sites.ts). */
  const SAMPLING_INTERVAL = 8 * 1024;
  const api = () => globalThis[Symbol.for("membudget.node-probe.api")];
  let session;
  let sampling = false;

  /** Inspector calls in the same thread answer synchronously: the callback has run on return. */
  function post(method, params) {
    if (!session) {
      session = new inspector.Session();
      session.connect();
    }
    let failure;
    let result;
    session.post(method, params ?? {}, (error, value) => {
      failure = error;
      result = value;
    });
    if (failure) throw failure;
    return result;
  }

  // A synchronous full collection: V8's gc() (exposed here, for this probe only, through a flag
  // set at run time and a fresh context). The inspector's HeapProfiler.collectGarbage runs later,
  // in a task of its own, so the heap read right after it would still hold the garbage.
  let fullGc;
  function gcFunction() {
    if (!fullGc) {
      v8.setFlagsFromString("--expose-gc");
      fullGc = require("node:vm").runInNewContext("gc");
    }
    return fullGc;
  }

  function collect() {
    const gc = gcFunction();
    const run = () => gc({ type: "major", execution: "sync" });
    const probe = api();
    if (probe) probe.aside(run);
    else run();
  }

  function answer(command) {
    const [verb, arg] = command.trim().split(/\s+/);
    if (verb === "retained") {
      collect();
      return {
        pid: process.pid,
        retained: v8.getHeapStatistics().used_heap_size,
        how: "v8-used-heap-after-full-gc",
      };
    }
    if (verb === "mark") {
      collect();
      if (sampling) post("HeapProfiler.stopSampling");
      post("HeapProfiler.startSampling", {
        samplingInterval: SAMPLING_INTERVAL,
        includeObjectsCollectedByMajorGC: false,
        includeObjectsCollectedByMinorGC: false,
      });
      sampling = true;
      return { pid: process.pid, marked: true };
    }
    if (verb === "sites") {
      if (!sampling) return { pid: process.pid, error: "no mark: sampling never started" };
      collect();
      const profile = post("HeapProfiler.getSamplingProfile").profile;
      const fold = api()?.foldProfile;
      if (!fold) return { pid: process.pid, error: "the Node.js probe (probe.cjs) is not loaded" };
      const limit = Math.max(1, Number.parseInt(arg ?? "10", 10) || 10);
      // The profile we just read was built on this heap: membudget's own, not the workload's.
      const ours = __dirname + path.sep;
      const sites = fold(profile, limit + 5)
        .peak.filter((site) => !site.location.startsWith(ours))
        .slice(0, limit);
      return { pid: process.pid, sites, samplingInterval: SAMPLING_INTERVAL };
    }
    return { pid: process.pid, error: `unknown command ${JSON.stringify(verb)}` };
  }

  try {
    const target = path.join(path.resolve(outDir), `${process.pid}.load.sock`);
    try {
      fs.unlinkSync(target);
    } catch {}
    const server = net.createServer((socket) => {
      socket.unref();
      let text = "";
      socket.setEncoding("utf8");
      socket.on("error", () => {});
      socket.on("data", (chunk) => {
        text += chunk;
        if (!text.includes("\n")) return;
        let reply;
        try {
          reply = answer(text);
        } catch (error) {
          reply = { pid: process.pid, error: String(error?.message ?? error) };
        }
        socket.end(`${JSON.stringify(reply)}\n`);
      });
    });
    server.on("error", () => {});
    server.listen(target);
    server.unref();
    process.on("exit", () => {
      try {
        fs.unlinkSync(target);
      } catch {}
    });
  } catch {}
})();
