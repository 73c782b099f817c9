// membudget's Node.js probe: preloaded with NODE_OPTIONS="--require …" into every Node process
// (and worker thread) of a workload, it follows V8's garbage collections and writes the heap
// figures of that process as <pid>.node.json (<pid>-<threadId>.node.json) into MEMBUDGET_OUT_DIR.
//
// It must never change what the workload does: no output, no exceptions, no change of exit code,
// nothing that keeps the event loop alive. Everything below is wrapped so that a failure of the
// probe costs only its own figures.
"use strict";

(() => {
  const outDir = process.env.MEMBUDGET_OUT_DIR;
  if (!outDir) return;
  // A second --require of the same probe (nested membudget, NODE_OPTIONS appended twice) is a no-op.
  const LOADED = Symbol.for("membudget.node-probe");
  if (globalThis[LOADED]) return;
  Object.defineProperty(globalThis, LOADED, { value: true, enumerable: false });

  let fs;
  let path;
  let v8;
  let threadId = 0;
  try {
    fs = require("node:fs");
    path = require("node:path");
    v8 = require("node:v8");
    threadId = require("node:worker_threads").threadId || 0;
  } catch {
    return;
  }

  // Phases that belong to one collection and are not collections of their own.
  const NOT_A_COLLECTION = new Set(["IncrementalMarking", "ProcessWeakCallbacks"]);
  // Rotating the profiler bounds its buffer (~3 KB of JSON per GC) in long asynchronous
  // workloads; a synchronous script never yields to the timer and keeps everything to exit.
  const ROTATE_MS = 2000;

  const target = path.resolve(outDir); // before the workload can chdir
  const fileName = threadId === 0 ? `${process.pid}.node.json` : `${process.pid}-${threadId}.node.json`;
  const extra = { node: process.version, threadId };

  // Stable GC timing: concurrent marking finishes whenever its background threads do, so the
  // heap size at which a full GC completes (hence the peak) varies run to run. --single-threaded-gc
  // is refused in NODE_OPTIONS, and set at run time it is ignored (Node 24) or aborts V8 at the
  // first full GC (Node 20, as does --no-parallel-marking); --no-concurrent-marking set here is
  // honoured on both and never failed under stress. V8 flags are per process: main thread only.
  //
  // That is not enough for peakHeap to repeat (issue #24). Optimized code is compiled on background
  // threads and installed whenever it is ready (and allocates less), and scavenges copy survivors
  // on several threads, so each scavenge keeps a slightly different set: the peak flips between GC
  // schedules (terser over d3.js, Node 20: 60.1 or 65.6 MiB). Both can only be turned off on node's
  // command line (set here they are accepted and ignored or abort V8; NODE_OPTIONS refuses them), so
  // the runner puts a `node` first on PATH that adds them (node-probe.ts, REPEATABLE_FLAGS).
  // `repeatable` says whether this process got them, i.e. whether its peakHeap can be expected to repeat.
  extra.repeatable = repeatableFlags(process.execArgv);
  if (process.env.MEMBUDGET_NODE_PREDICTABLE === "1" && threadId === 0) {
    try {
      v8.setFlagsFromString("--no-concurrent-marking");
      extra.predictable = "--no-concurrent-marking";
    } catch {
      extra.predictable = false;
    }
  }

  /** Whether node's own flags (NODE_OPTIONS refuses them) make V8 compile and scavenge on one thread. */
  function repeatableFlags(execArgv) {
    const one = (off, on) => {
      let set = false;
      for (const arg of execArgv) {
        const flag = arg.replaceAll("_", "-");
        if (off.test(flag)) set = true;
        else if (on.test(flag)) set = false;
      }
      return set;
    };
    const jit = one(
      /^--(no-concurrent-recompilation|concurrent-recompilation=false|predictable|single-threaded|jitless)$/,
      /^--concurrent-recompilation(=true)?$/,
    );
    const scavenge = one(
      /^--(no-parallel-scavenge|parallel-scavenge=false|predictable|single-threaded|single-threaded-gc)$/,
      /^--parallel-scavenge(=true)?$/,
    );
    return jit && scavenge;
  }

  const byType = {};
  const SAMPLING_INTERVAL = 32 * 1024;
  const PROBE_URL = require("node:url").pathToFileURL(__filename).href;

  function epochMs() {
    return performance.timeOrigin + performance.now();
  }

  /** Node's own code and installed packages: the innermost frame outside them is the user's. */
  function isLibrary(url) {
    return url === "" || url.startsWith("node:") || url.includes("/node_modules/");
  }

  function frameText(frame) {
    const file = frame.url.startsWith("file://")
      ? decodeURIComponent(new URL(frame.url).pathname)
      : frame.url;
    return `${file || "(native)"}:${frame.lineNumber + 1}`;
  }

  /**
   * The sampled tree → the top `limit` sites: each node's self size goes to the innermost frame of
   * its stack that is the user's code (the node's own frame when none is), by function and line.
   */
  function foldProfile(profile, limit) {
    const sitesByKey = new Map();
    const variances = sampleVariances(profile);
    const stack = [];
    const walk = (node) => {
      stack.push(node.callFrame);
      // The probe's own reading of the profile at exit is not the workload's memory.
      if (node.callFrame.url === __filename || node.callFrame.url === PROBE_URL) {
        stack.pop();
        return;
      }
      if (node.selfSize > 0) {
        let at = stack.length - 1;
        for (let i = stack.length - 1; i >= 0; i--) {
          if (!isLibrary(stack[i].url)) {
            at = i;
            break;
          }
        }
        const frame = stack[at];
        const location = frameText(frame);
        const key = `${frame.functionName}\u0000${location}`;
        let site = sitesByKey.get(key);
        if (!site) {
          site = {
            location,
            function: frame.functionName || "(anonymous)",
            bytes: 0,
            variance: 0,
            biggest: 0,
            stack: [],
          };
          sitesByKey.set(key, site);
        }
        site.bytes += node.selfSize;
        site.variance += variances.get(node.id) ?? 0;
        if (node.selfSize > site.biggest) {
          site.biggest = node.selfSize;
          site.stack = stack
            .slice(-5)
            .reverse()
            .filter((f) => f.url !== "")
            .map(frameText);
        }
      }
      for (const child of node.children ?? []) walk(child);
      stack.pop();
    };
    walk(profile.head);
    const top = [...sitesByKey.values()]
      .sort((a, b) => b.bytes - a.bytes)
      .slice(0, limit)
      .map(({ biggest: _b, variance, ...site }) => ({ ...site, error: Math.round(Math.sqrt(variance)) }));
    return { peak: top, live: "at exit", samplingInterval: SAMPLING_INTERVAL };
  }

  /**
   * The variance of each profile node's self size. V8 samples by bytes with an exponential
   * interval of mean R and scales a sample of s bytes by 1/p, p = 1 - exp(-s/R) (unbiased, like
   * the Python probe's sampler); each adds (s/p)^2 (1 - p) to its node's variance.
   */
  function sampleVariances(profile) {
    const variances = new Map();
    for (const sample of profile.samples ?? []) {
      const p = -Math.expm1(-sample.size / SAMPLING_INTERVAL);
      if (!(p > 0)) continue;
      const weight = sample.size / p;
      variances.set(sample.nodeId, (variances.get(sample.nodeId) ?? 0) + weight * weight * (1 - p));
    }
    return variances;
  }
  const startHeap = v8.getHeapStatistics();
  const timeline = []; // [epoch seconds, bytes]: see segmentStart below
  let sites; // reads the attribution profile at exit (MEMBUDGET_SITES only)

  if (typeof v8.GCProfiler !== "function") {
    // Node < 18.15: nothing exact to offer. Write the file anyway so the runner can say why.
    extra.unavailable = `v8.GCProfiler needs Node >= 18.15 (this is ${process.version})`;
    process.on("exit", (code) => write({}, "normal", code));
    return;
  }

  let lastAfter = startHeap.used_heap_size; // used heap right after the latest GC (or the start)
  let allocated = 0;
  let peakHeap = startHeap.used_heap_size;
  let peakExternal = startHeap.external_memory;
  let collections = 0;
  let pauseMicros = 0;
  let profiler = new v8.GCProfiler();
  profiler.start();
  let finished = false;
  // The heap over time: [epoch seconds, used heap before a GC]. The GC profiler gives no time per
  // GC, only the segment's start and end; each GC is placed in its segment by how much of the
  // segment's allocation came before it (a steady allocation rate is the assumption).
  let segmentStart = epochMs();
  timeline.push([segmentStart / 1000, startHeap.used_heap_size]);
  let timelineStride = 1;
  let timelineSkipped = 0;

  /** Folds the profiler's GCs into the totals; `restart` keeps following, otherwise this is the end. */
  function checkpoint(restart) {
    if (finished || profiler === undefined) return;
    // Read the heap before stop(): stop() parses its JSON onto this very heap.
    const now = v8.getHeapStatistics();
    let report;
    try {
      report = profiler.stop();
    } catch {
      report = undefined;
    }
    profiler = undefined;
    const segmentEnd = epochMs();
    const marks = [];
    let segmentAllocated = 0;
    for (const gc of report?.statistics ?? []) {
      const before = gc.beforeGC.heapStatistics;
      const after = gc.afterGC.heapStatistics;
      segmentAllocated += Math.max(0, before.usedHeapSize - lastAfter);
      marks.push(segmentAllocated, before.usedHeapSize);
      allocated += before.usedHeapSize - lastAfter;
      lastAfter = after.usedHeapSize;
      if (before.usedHeapSize > peakHeap) peakHeap = before.usedHeapSize;
      if (before.externalMemory > peakExternal) peakExternal = before.externalMemory;
      if (after.externalMemory > peakExternal) peakExternal = after.externalMemory;
      pauseMicros += gc.cost;
      byType[gc.gcType] = (byType[gc.gcType] ?? 0) + 1;
      if (!NOT_A_COLLECTION.has(gc.gcType)) collections += 1;
    }
    // The tail: what was allocated since the latest GC. A GC squeezed between the reading above
    // and stop() would make it negative; it is then nothing.
    allocated += Math.max(0, now.used_heap_size - lastAfter);
    segmentAllocated += Math.max(0, now.used_heap_size - lastAfter);
    const span = Math.max(0, segmentEnd - segmentStart);
    for (let i = 0; i < marks.length; i += 2) {
      const at = segmentAllocated > 0 ? marks[i] / segmentAllocated : 1;
      addPoint(segmentStart + span * at, marks[i + 1]);
    }
    addPoint(segmentEnd, now.used_heap_size);
    segmentStart = segmentEnd;
    lastAfter = now.used_heap_size;
    if (now.used_heap_size > peakHeap) peakHeap = now.used_heap_size;
    if (now.external_memory > peakExternal) peakExternal = now.external_memory;
    if (!restart) {
      finished = true;
      return;
    }
    profiler = new v8.GCProfiler();
    profiler.start();
    // The probe's own parsing above is not the workload's allocation.
    lastAfter = v8.getHeapStatistics().used_heap_size;
  }

  function addPoint(ms, bytes) {
    if (++timelineSkipped < timelineStride) return;
    timelineSkipped = 0;
    timeline.push([ms / 1000, bytes]);
    if (timeline.length >= 400) {
      // Halve, keeping the higher of each pair so that peaks survive; then keep one point in two.
      const halved = [];
      for (let i = 0; i < timeline.length; i += 2) {
        const a = timeline[i];
        const b = timeline[i + 1];
        halved.push(b && b[1] > a[1] ? b : a);
      }
      timeline.length = 0;
      timeline.push(...halved);
      timelineStride *= 2;
    }
  }

  function figures() {
    return {
      peakHeap,
      allocated: Math.max(0, allocated),
      gcPause: pauseMicros / 1e6,
      gcCollections: collections,
      peakExternal,
    };
  }

  function write(figs, how, code) {
    try {
      const record = {
        probe: "node",
        pid: process.pid,
        ppid: process.ppid,
        threadId,
        argv: process.argv,
        exit: how,
        figures: figs,
        extra: {
          ...extra,
          exitCode: code,
          gcByType: byType,
          startHeap: startHeap.used_heap_size,
          heapTimeline: timeline,
          ...(sites ? { sites: sites() } : {}),
        },
      };
      const final = path.join(target, fileName);
      // Dot-prefixed and not ending in .json: a reader listing *.json never sees a half file.
      const temp = path.join(target, `.${fileName}.${process.hrtime.bigint()}.tmp`);
      fs.writeFileSync(temp, JSON.stringify(record));
      fs.renameSync(temp, final);
    } catch {
      // The directory vanished, the disk is full: the runner reports the missing file.
    }
  }

  sites = startSites();

  const rotation = setInterval(() => {
    try {
      checkpoint(true);
    } catch {}
  }, ROTATE_MS);
  rotation.unref();

  // One more listener per event than the workload's own must not tip it over its
  // MaxListenersExceededWarning threshold (that warning would be new output on stderr).
  const max = process.getMaxListeners();
  if (max > 0 && Number.isFinite(max)) process.setMaxListeners(max + 1);

  /**
   * With MEMBUDGET_SITES=N (the first measured run, or an attribution run): V8's sampling heap
   * profiler, one sample per ~32 KiB
   * allocated, keeping only samples whose objects are still alive. Read at exit, it gives the live
   * heap by allocation site: the culprit's objects must still be alive then to be seen. Returns
   * the reader, or undefined when sites are off or the inspector is not available.
   */
  function startSites() {
    const limit = Number.parseInt(process.env.MEMBUDGET_SITES ?? "", 10);
    if (!(limit > 0)) return undefined;
    let session;
    try {
      const inspector = require("node:inspector");
      session = new inspector.Session();
      session.connect();
      let failed;
      // In the same thread, Session.post answers synchronously: the callback has run on return.
      session.post(
        "HeapProfiler.startSampling",
        {
          samplingInterval: SAMPLING_INTERVAL,
          includeObjectsCollectedByMajorGC: false,
          includeObjectsCollectedByMinorGC: false,
        },
        (error) => {
          failed = error;
        },
      );
      if (failed) throw failed;
    } catch (error) {
      extra.sitesUnavailable = String(error?.message ?? error);
      return undefined;
    }
    return () => {
      let profile;
      try {
        session.post("HeapProfiler.getSamplingProfile", (error, result) => {
          if (!error) profile = result.profile;
        });
        session.post("HeapProfiler.stopSampling", () => {});
        session.disconnect();
      } catch {}
      return profile ? foldProfile(profile, limit) : { peak: [], unavailable: "no sampling profile" };
    };
  }

  /**
   * For the load probe (load.cjs): runs `fn` (a forced full collection at a round's end) with its
   * GCs left out of gcPause, gcCollections and the per-type counts: they are membudget's, not the
   * workload's. What they freed still counts in allocated, and the heap before them in peakHeap.
   */
  function aside(fn) {
    checkpoint(true);
    const saved = { pauseMicros, collections, byType: { ...byType } };
    try {
      return fn();
    } finally {
      checkpoint(true);
      pauseMicros = saved.pauseMicros;
      collections = saved.collections;
      for (const key of Object.keys(byType)) delete byType[key];
      Object.assign(byType, saved.byType);
    }
  }
  Object.defineProperty(globalThis, Symbol.for("membudget.node-probe.api"), {
    value: { aside, foldProfile },
    enumerable: false,
  });

  // 'exit' also fires on process.exit() and after an uncaught exception (code 1 or 7).
  process.on("exit", (code) => {
    try {
      clearInterval(rotation);
      checkpoint(false);
      write(figures(), "normal", code);
    } catch {}
  });

  // SIGTERM/SIGINT end a process without 'exit', so its figures are lost. Listening for them is
  // opt-in (MEMBUDGET_NODE_SIGNALS=1) because a JavaScript listener changes what the signal does:
  // it runs only when the event loop turns, so a process busy in synchronous code no longer dies
  // on the signal, and if that code then finishes the program, the signal is lost and the process
  // exits 0. When enabled: write, step aside, and let the signal do what it would have done; the
  // workload's own handlers run as before (a later 'exit' rewrites the file), and with none, the
  // signal is raised again with its default action. Signal handles in Node are unref'd, so
  // listening keeps nothing alive. Signals reach the main thread only.
  if (process.env.MEMBUDGET_NODE_SIGNALS === "1" && threadId === 0) {
    for (const signal of ["SIGTERM", "SIGINT"]) {
      const onSignal = () => {
        // Written before the listener goes: removing the last one restores the default action,
        // and a second signal arriving meanwhile (rsswrap signals the group, then the tree) would
        // end the process in the middle of the write.
        try {
          checkpoint(true);
          write(figures(), "signal", null);
        } catch {}
        process.removeListener(signal, onSignal);
        if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
      };
      process.on(signal, onSignal);
    }
  }
})();
