# membudget's attribution sampler (MEMBUDGET_SITES=N), part of the Python probe: the probe
# (_membudget_probe.py) runs this file's code in its own module when an attribution run starts, so
# _membudget_jstr and _MEMBUDGET_SITE_FRAMES are the probe's. Its rules are the probe's.
import os

_MiB = 1024 * 1024


class _membudget_sites:
    """Attribution (MEMBUDGET_SITES=N): a daemon thread polls tracemalloc every 10 ms and snapshots
    the traces when the heap is near a peak that grew by max(5 %, 1 MiB) since the kept snapshot;
    the snapshot with the most traced memory wins. A snapshot is folded at once into sites (innermost user frame, by line) and only the top
    N are kept. It runs only in the attribution run, whose figures are not used."""

    def __init__(self, tracer, limit, gc, perf_counter):
        import _thread
        import time

        self.tracer = tracer
        self.limit = limit
        self.gc = gc
        self.perf_counter = perf_counter
        self.thread = _thread
        self.time = time
        self.stdlib = os.path.dirname(os.path.abspath(os.__file__)) + os.sep
        self.generation = 0
        self.reset()

    def reset(self):
        # A new lock each time: a fork child inherits the lock as the parent's thread held it.
        self.lock = self.thread.allocate_lock()
        self.stop = False
        self.generation += 1
        self.kept = None  # [((filename, lineno), [bytes, count, traceback, biggest]), ...]
        self.kept_current = 0
        self.snap_peak = 0  # the workload's peak when the latest snapshot was taken
        self.peak = 0
        self.snapshots = 0
        self.next_ok = 0.0

    def restart(self):
        self.reset()
        try:
            self.thread.start_new_thread(self.loop, (self.generation,))
        except Exception:
            pass

    def is_library(self, filename):
        return (
            filename.startswith(self.stdlib)
            or "site-packages" in filename
            or "dist-packages" in filename
            or filename.startswith("<")
        )

    def user_frame(self, tb):
        # tracemalloc frames come most recent first. The innermost frame outside the stdlib and
        # site-packages names the code the user can change; failing that, the innermost.
        for frame in tb:
            if not self.is_library(frame[0]):
                return frame
        return tb[0] if tb else ("<unknown>", 0)

    def observe(self):
        current, peak = self.tracer.get_traced_memory()
        if peak > self.peak:
            self.peak = peak
        return current

    def due(self, current):
        grown = self.peak - self.snap_peak
        return (
            current >= 0.9 * self.peak
            and grown >= max(0.05 * self.snap_peak, _MiB)
            and self.perf_counter() >= self.next_ok
        )

    def snapshot(self, current):
        gc = self.gc
        began = self.perf_counter()
        # Millions of tuples: the cyclic GC would rescan them again and again while they are built.
        enabled = gc.isenabled()
        gc.disable()
        try:
            from operator import itemgetter

            traces = self.tracer._get_traces()
            groups = {}
            # zip/map/itemgetter make no object per trace (tracemalloc would trace each one), and
            # equal tracebacks are one shared tuple, so grouping by them is cheap.
            for size, tb in zip(map(itemgetter(1), traces), map(itemgetter(2), traces)):
                sizes = groups.get(tb)
                if sizes is None:
                    groups[tb] = sizes = []
                sizes.append(size)
            del traces
        finally:
            if enabled:
                gc.enable()
        folded = {}
        for tb, sizes in groups.items():
            frame = self.user_frame(tb)
            total = sum(sizes)
            entry = folded.get(frame)
            if entry is None:
                folded[frame] = [total, len(sizes), tb, total]
            else:
                entry[0] += total
                entry[1] += len(sizes)
                if total > entry[3]:
                    entry[2] = tb
                    entry[3] = total
        del groups
        top = sorted(folded.items(), key=lambda kv: -kv[1][0])[: self.limit]
        self.snapshots += 1
        if self.kept is None or current > self.kept_current:
            self.kept = top
            self.kept_current = current
        self.snap_peak = self.peak
        # The snapshot's own tuples were traced: forget that peak. And keep snapshots to about a
        # third of the run's time however large the heap.
        self.tracer.reset_peak()
        self.next_ok = self.perf_counter() + 2 * (self.perf_counter() - began)

    def loop(self, generation):
        sleep = self.time.sleep
        while not self.stop and generation == self.generation:
            sleep(0.01)
            try:
                if not self.tracer.is_tracing():
                    return
                with self.lock:
                    if self.stop or generation != self.generation:
                        return
                    current = self.observe()
                    if self.due(current):
                        self.snapshot(current)
            except Exception:
                return

    def finish(self, extra):
        """At exit: stop the thread, snapshot once more if the peak was never captured, and add
        "sites" (JSON text) to the file's extra. (The heap timeline is the normal run's, sampled
        by the runner beside RSS: this run draws nothing.)"""
        self.stop = True
        if not self.lock.acquire(timeout=30):
            return
        try:
            if not self.tracer.is_tracing():
                return
            current = self.observe()
            if self.kept is None or self.peak > self.snap_peak:
                self.snapshot(current)
            extra["sites"] = self.sites_json()
        except Exception:
            pass
        finally:
            self.lock.release()

    def sites_json(self):
        spans = {}
        items = []
        for (filename, lineno), (total, count, tb, _) in self.kept or []:
            function = self.function_at(spans, filename, lineno)
            stack = ",".join(_membudget_jstr("%s:%d" % frame) for frame in tb[:5])
            items.append(
                '{"location":%s,"function":%s,"bytes":%d,"count":%d,"stack":[%s]}'
                % (_membudget_jstr("%s:%d" % (filename, lineno)), _membudget_jstr(function), total, count, stack)
            )
        return '{"peak":[%s],"traced":%d,"snapshots":%d,"frames":%d}' % (
            ",".join(items),
            self.kept_current,
            self.snapshots,
            _MEMBUDGET_SITE_FRAMES,
        )

    @staticmethod
    def function_at(cache, filename, lineno):
        """tracemalloc frames carry no function name: the innermost def or class around the line,
        from the file's syntax tree (parsed once per file, and only for the sites written)."""
        spans = cache.get(filename)
        if spans is None:
            spans = []
            try:
                import ast

                with open(filename, "rb") as source:
                    tree = ast.parse(source.read())

                def visit(node, prefix):
                    for child in ast.iter_child_nodes(node):
                        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                            name = prefix + child.name
                            spans.append((child.lineno, child.end_lineno or child.lineno, name))
                            visit(child, name + ".")
                        else:
                            visit(child, prefix)

                visit(tree, "")
            except Exception:
                pass
            cache[filename] = spans
        best = None
        for start, end, name in spans:
            if start <= lineno <= end and (best is None or start >= best[0]):
                best = (start, name)
        return best[1] if best else "<module>"
