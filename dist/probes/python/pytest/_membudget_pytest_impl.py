# membudget's pytest plugin: loaded through PYTEST_PLUGINS by the Python probe, it records each
# test's heap peak, allocations, wall time and outcome (setup + call + teardown) and writes
# $MEMBUDGET_OUT_DIR/<pid>.pytest.json once per pytest process (every xdist worker writes its own).
#
# The heap figures come from the same counters as the scenario's, so that they agree with it:
# - the malloc interposer, when it exports a peak window (membudget_counters + membudget_window);
# - tracemalloc, when it is the scenario's heap probe (no interposer): its peak is reset per test
#   and the process's own peak is written for the runner to combine (see _Tracemalloc).
# Anything else leaves the heap figures out, with the reason in the file: never a guess.
import os
import sys
import time
from json import dumps as _dumps

_OUT_DIR = os.environ.get("MEMBUDGET_OUT_DIR")
_perf = time.perf_counter


def _memray_present(config):
    # pytest-memray registers itself as "memray" (its entry point) or by its module.
    pm = config.pluginmanager
    return pm.hasplugin("memray") or pm.hasplugin("pytest_memray") or "pytest_memray" in sys.modules


def _parse_limit(text):
    """pytest-memray's limit strings ("24 MB", "1.5GB", "+100 KB"): its units are powers of 1024."""
    import re

    match = re.match(r"^\s*\+?\s*([0-9]+(?:\.[0-9]*)?)\s*([kmgtp]?b)\s*$", str(text), re.IGNORECASE)
    if not match:
        return None
    power = "bkmgtp".index(match.group(2)[0].lower()) if len(match.group(2)) == 2 else 0
    return int(float(match.group(1)) * 1024**power)


class _Interposer:
    """Reads the malloc interposer's counters since the mark: live, window peak, bytes, calls."""

    name = "interposer"

    def __init__(self, lib, ctypes):
        self.counters = lib.membudget_counters
        # No argtypes: the int64[4] array goes as its pointer, without a conversion per call
        # (0.2 µs a call instead of 0.4 µs here).
        self.counters.restype = None
        # With the GIL held (PyDLL's kind of call): the counters of Python's own allocations are
        # the GIL's, and the window resets their peak.
        self.window = ctypes.PyDLL(None).membudget_window
        self.window.argtypes = []
        self.window.restype = None
        self.buf = (ctypes.c_int64 * 4)()
        # The sampled sites' window per test (the probe samples in this run): by the test's number.
        try:
            self.sites_window = lib.membudget_sites_window
            self.sites_window.argtypes = [ctypes.c_int]
            self.sites_window.restype = None
        except AttributeError:
            self.sites_window = None

    def begin(self, index=-1):
        if self.sites_window is not None:
            self.sites_window(index)
        self.window()
        self.counters(self.buf)
        return (self.buf[0], self.buf[2], self.buf[3])

    def end(self, start):
        if self.sites_window is not None:
            self.sites_window(-1)  # closes the test's window while its peak is still the window's
        self.counters(self.buf)
        live0, total0, count0 = start
        return (max(0, self.buf[1] - live0), self.buf[2] - total0, self.buf[3] - count0)

    def process_peak(self):
        return None  # the interposer keeps the process's peak across windows itself


class _Tracemalloc:
    """tracemalloc as the scenario's heap probe: its peak is reset at each test's start. The
    process's own peak from before the latest reset is kept here and written to our file, where
    the runner takes it with the probe's (which covers only the time since that reset)."""

    name = "tracemalloc"

    def __init__(self, tracer):
        self.tracer = tracer
        self.kept = 0

    def begin(self, index=-1):
        current, peak = self.tracer.get_traced_memory()
        if peak > self.kept:
            self.kept = peak
        self.tracer.reset_peak()
        return current

    def end(self, start):
        return (max(0, self.tracer.get_traced_memory()[1] - start), None, None)

    def process_peak(self):
        return max(self.kept, self.tracer.get_traced_memory()[1])


def _heap_source():
    """(source, None) or (None, why the heap figures are unavailable)."""
    if os.environ.get("MEMBUDGET_HEAP") == "0":
        return None, "a clean run: no heap probe"
    if os.environ.get("MEMBUDGET_SITES", "0") not in ("", "0"):
        return None, "the attribution run: figures not used"
    probe = sys.modules.get("_membudget_sitecustomize")
    if probe is None:
        return None, "membudget's Python probe is not loaded in this interpreter"
    if "mbmalloc" in os.environ.get("LD_PRELOAD", ""):
        try:
            import ctypes

            lib = ctypes.CDLL(None)
            active = lib.membudget_active
            active.restype = ctypes.c_int
            # The probe disables the interposer when it cannot see Python's objects (it says why).
            if active() == 1:
                try:
                    return _Interposer(lib, ctypes), None
                except AttributeError:
                    return None, (
                        "the allocation probe has no per-test peak window "
                        "(membudget_counters/membudget_window are not exported by this mbmalloc)"
                    )
        except Exception as error:  # the interposer is not reachable: the tracemalloc case below
            del error
    try:
        import _tracemalloc
    except ImportError:
        return None, "neither the allocation probe nor tracemalloc is available"
    if _tracemalloc.is_tracing() and hasattr(_tracemalloc, "reset_peak"):
        return _Tracemalloc(_tracemalloc), None
    return None, "no heap probe runs in this process"


class _Recorder:
    def __init__(self, heap, why):
        self.heap = heap
        self.why = why
        self.tests = []
        self.current = None

    # A hookwrapper around the whole protocol: setup, call and teardown are one window.
    def protocol(self, item):
        limit = None
        marker = item.get_closest_marker("limit_memory")
        if marker is not None and marker.args:
            limit = (str(marker.args[0]), _parse_limit(marker.args[0]))
        entry = {"id": item.nodeid, "outcome": "passed", "limit": limit}
        self.current = entry
        heap = self.heap
        start = heap.begin(len(self.tests)) if heap is not None else None
        began = _perf()
        yield
        entry["wall"] = _perf() - began
        if heap is not None:
            entry["heap"] = heap.end(start)
        self.current = None
        # Where the test is defined, for an annotation on that line (outside the measured window).
        try:
            path, line, _ = item.location
            if line is not None:
                entry["loc"] = (os.path.join(self._root(item.config), path), line + 1)
        except Exception:
            pass
        self.tests.append(entry)

    def _root(self, config):
        root = getattr(self, "root", None)
        if root is None:
            root = self.root = str(getattr(config, "rootpath", None) or config.rootdir)
        return root

    def logreport(self, report):
        entry = self.current
        if entry is None or report.nodeid != entry["id"]:
            return  # the xdist controller sees its workers' reports: theirs to record
        if hasattr(report, "wasxfail"):
            entry["outcome"] = "xfailed" if report.skipped else "xpassed"
        elif report.failed:
            entry["outcome"] = "failed" if report.when == "call" else "error"
        elif report.skipped and entry["outcome"] == "passed":
            entry["outcome"] = "skipped"

    def write(self):
        if not self.tests or not _OUT_DIR:
            return
        jstr = _jstr
        rows = []
        for t in self.tests:
            fields = ['"id":%s' % jstr(t["id"]), '"outcome":"%s"' % t["outcome"], '"wallTime":%r' % t["wall"]]
            heap = t.get("heap")
            if heap is not None:
                fields.append('"peakHeap":%d' % heap[0])
                if heap[1] is not None:
                    fields.append('"allocated":%d' % heap[1])
                    fields.append('"allocations":%d' % heap[2])
            loc = t.get("loc")
            if loc is not None:
                fields.append('"file":%s,"line":%d' % (jstr(loc[0]), loc[1]))
            if t["limit"] is not None:
                text, value = t["limit"]
                fields.append('"limit":{"text":%s,"bytes":%s}' % (jstr(text), "null" if value is None else value))
            rows.append("{%s}" % ",".join(fields))
        worker = os.environ.get("PYTEST_XDIST_WORKER")
        peak = self.heap.process_peak() if self.heap is not None else None
        text = '{"probe":"pytest","pid":%d,"worker":%s,"source":%s,"processPeak":%s,"unavailable":%s,"tests":[%s]}\n' % (
            os.getpid(),
            jstr(worker) if worker else "null",
            jstr(self.heap.name) if self.heap is not None else "null",
            "null" if peak is None else peak,
            jstr(self.why) if self.why else "null",
            ",\n".join(rows),
        )
        final = os.path.join(_OUT_DIR, "%d.pytest.json" % os.getpid())
        temp = os.path.join(_OUT_DIR, ".%d.pytest.json.tmp" % os.getpid())
        try:
            with open(temp, "w", encoding="utf-8", errors="replace") as out:
                out.write(text)
            os.replace(temp, final)
        except OSError:
            pass  # the runner says which figures are missing


def _jstr(text):
    # json's C encoder (pytest has imported json already): ASCII out, lone surrogates as \u escapes.
    return _dumps(str(text))


_recorder = None


def pytest_configure(config):
    global _recorder
    if not _memray_present(config):
        # Without pytest-memray its marker is ours to declare (so --strict-markers accepts it);
        # with it, it declares and enforces its own and we only read the limit.
        config.addinivalue_line(
            "markers", "limit_memory(limit): the test's peak heap budget, read by membudget (pytest-memray's marker)"
        )
    if not _OUT_DIR or _recorder is not None:
        return
    try:
        heap, why = _heap_source()
    except Exception as error:
        heap, why = None, "the heap probe could not be read: %s" % error
    _recorder = _Recorder(heap, why)


def pytest_unconfigure(config):
    global _recorder
    if _recorder is not None:
        try:
            _recorder.write()
        finally:
            _recorder = None


try:
    import pytest as _pytest

    @_pytest.hookimpl(hookwrapper=True, tryfirst=True)
    def pytest_runtest_protocol(item, nextitem):
        if _recorder is None:
            yield
            return
        yield from _recorder.protocol(item)

    def pytest_runtest_logreport(report):
        if _recorder is not None:
            _recorder.logreport(report)

except ImportError:  # imported outside pytest: nothing to hook
    pass
