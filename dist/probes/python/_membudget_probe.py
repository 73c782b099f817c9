# membudget's Python probe: first on PYTHONPATH, it measures GC and (with the malloc interposer,
# or tracemalloc without it) the heap, writes $MEMBUDGET_OUT_DIR/<pid>.python.json once per
# process, and then runs the user's own sitecustomize as if we were not here.
#
# Rules it keeps: never print, never raise into the program, import nothing heavy (the json and
# tracemalloc Python modules pull in re/pickle/..., importlib.util contextlib and collections; we
# use os, gc, time, atexit, _ctypes, _tracemalloc and the import system's frozen modules only),
# and leave sys.path as it found it.
import os
import sys


def _membudget_install():
    out_dir = os.environ.get("MEMBUDGET_OUT_DIR")
    if not out_dir:
        return None
    import atexit
    import gc
    import time

    perf_counter = time.perf_counter

    # The interposer (LD_PRELOAD) exports membudget_* functions into the global symbol scope:
    # (mark, flush, active, disable, hook_python).
    lib = _membudget_functions() if "mbmalloc" in os.environ.get("LD_PRELOAD", "") else None
    interposer = lib is not None and lib[2]() == 1
    hooked = False
    if interposer:
        # pymalloc serves small objects from its own arenas, where malloc never sees them: the
        # interposer wraps Python's MEM and OBJ allocators too (called with the GIL held).
        try:
            hooked = lib[4]() == 1
        except Exception:
            hooked = False
        if not hooked and os.environ.get("PYTHONMALLOC") != "malloc":
            lib[3](b"Python's allocator could not be wrapped: the allocation probe would miss pymalloc's objects")
            interposer = False

    # MEMBUDGET_HEAP=0: a clean run that times the workload and its RSS, with no heap probe at all.
    want_heap = os.environ.get("MEMBUDGET_HEAP") != "0"
    # Attribution run (MEMBUDGET_SITES=N): tracemalloc with stacks, snapshots near the peak.
    try:
        sites_limit = max(0, int(os.environ.get("MEMBUDGET_SITES", "0")))
    except ValueError:
        sites_limit = 0
    want_tracemalloc = (
        (not interposer and want_heap) or sites_limit > 0 or os.environ.get("MEMBUDGET_TRACEMALLOC") == "1"
    )
    tracer = None
    if want_tracemalloc:
        try:
            import _tracemalloc as tracer
        except ImportError:
            tracer = None

    state = {"pid": os.getpid(), "written": False, "pause": 0.0, "collections": 0, "start": 0.0, "quiet": False}
    sites = _membudget_sites(tracer, sites_limit, gc, perf_counter) if tracer and sites_limit else None

    def on_gc(phase, info):
        if state["quiet"]:
            return  # our own collection at start()
        if phase == "start":
            state["start"] = perf_counter()
        else:
            state["pause"] += perf_counter() - state["start"]
            state["collections"] += 1

    jstr = _membudget_jstr

    def write(exit_kind):
        if state["written"] or state["pid"] != os.getpid():
            return
        state["written"] = True
        figures = {"gcPause": repr(float(state["pause"])), "gcCollections": str(state["collections"])}
        extra = {
            "interposer": "true" if interposer else "false",
            "pythonHook": "true" if hooked else "false",
            "python": jstr("%d.%d.%d" % sys.version_info[:3]),
        }
        if tracer is not None and tracer.is_tracing():
            peak = str(tracer.get_traced_memory()[1])
            if interposer:
                extra["tracemallocPeak"] = peak
            else:
                figures["peakHeap"] = peak
        elif tracer is not None:
            extra["tracemalloc"] = '"stopped by the program: no peak"'
        if sites is not None:
            sites.finish(extra)
        argv = getattr(sys, "orig_argv", None) or sys.argv
        text = "{%s}\n" % ",".join(
            [
                '"probe":"python"',
                '"pid":%d' % os.getpid(),
                '"ppid":%d' % os.getppid(),
                '"argv":[%s]' % ",".join(jstr(a) for a in argv),
                '"exit":%s' % jstr(exit_kind),
                '"figures":{%s}' % ",".join('"%s":%s' % kv for kv in figures.items()),
                '"extra":{%s}' % ",".join('"%s":%s' % kv for kv in extra.items()),
            ]
        )
        final = os.path.join(out_dir, "%d.python.json" % os.getpid())
        temp = os.path.join(out_dir, ".%d.python.json.tmp" % os.getpid())
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                os.write(fd, text.encode("utf-8", "replace"))
            finally:
                os.close(fd)
            os.replace(temp, final)
        except OSError:
            # The directory vanished or is read-only: the runner reports the missing figures.
            try:
                os.unlink(temp)
            except OSError:
                pass

    def flush(exit_kind):
        if lib is not None:
            # Flushed here, the malloc totals leave out interpreter teardown, as they leave out
            # start-up; and first, so that they leave out our own file too (its length varies).
            lib[1](exit_kind.encode())
        try:
            write(exit_kind)
        except Exception:
            pass

    def at_exit():
        flush("normal")

    real_exit = os._exit

    def _exit(status):
        flush("_exit")
        real_exit(status)

    _exit.__name__ = _exit.__qualname__ = "_exit"
    _exit.__doc__ = real_exit.__doc__
    _exit.__module__ = real_exit.__module__

    def after_fork_in_child():
        # The interposer resets itself in pthread_atfork; Python's figures start again here too.
        state.update(pid=os.getpid(), written=False, pause=0.0, collections=0)
        if tracer is not None and tracer.is_tracing() and hasattr(tracer, "reset_peak"):
            tracer.reset_peak()  # Python >= 3.9
        if sites is not None:
            sites.restart()  # threads do not survive fork

    gc.callbacks.append(on_gc)
    atexit.register(at_exit)
    os._exit = _exit
    os.register_at_fork(after_in_child=after_fork_in_child)

    def start():
        # Called once the user's sitecustomize has run: everything before is start-up.
        # A full collection first also empties CPython's free lists, so that what the program
        # then allocates does not depend on what start-up left in them (whether this process
        # compiled our code or loaded it, the user's sitecustomize): 24 allocations of difference
        # on a 3,000-row loop without it. It is not the program's: not in its GC figures.
        state["quiet"] = True
        try:
            gc.collect()
        finally:
            state["quiet"] = False
        if tracer is not None:
            tracer.start(_MEMBUDGET_SITE_FRAMES if sites is not None else 1)
        if sites is not None:
            sites.restart()
        if lib is not None:
            lib[0]()

    return start


# Frames kept per allocation: enough to climb out of the stdlib to the user's line; each frame
# costs (10 frames run about 2-4x slower than 1 on call-heavy code). MEMBUDGET_SITES_FRAMES overrides.
try:
    _MEMBUDGET_SITE_FRAMES = min(100, max(1, int(os.environ.get("MEMBUDGET_SITES_FRAMES", "10"))))
except ValueError:
    _MEMBUDGET_SITE_FRAMES = 10
_MiB = 1024 * 1024


class _membudget_sites:
    """Attribution (MEMBUDGET_SITES=N): a daemon thread polls tracemalloc every 10 ms and snapshots
    the traces when the heap is near a peak that grew by max(5 %, 1 MiB) since the kept snapshot; the snapshot with the most traced memory
    wins. A snapshot is folded at once into sites (innermost user frame, by line) and only the top
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


def _membudget_functions():
    """The interposer's functions, or None, through _ctypes: ctypes defines ~100 classes as it
    loads (7 M instructions a process). Its names are unchanged since Python 2.5; else ctypes."""
    names = ("membudget_mark", "membudget_flush", "membudget_active", "membudget_disable")
    try:
        import _ctypes

        class Int(_ctypes._SimpleCData):
            _type_ = "i"

        class CFunc(_ctypes.CFuncPtr):
            _flags_ = _ctypes.FUNCFLAG_CDECL
            _restype_ = Int

        class PyFunc(_ctypes.CFuncPtr):  # PyDLL's kind: the GIL stays held
            _flags_ = _ctypes.FUNCFLAG_CDECL | _ctypes.FUNCFLAG_PYTHONAPI
            _restype_ = Int

        handle = _ctypes.dlopen(None, 0)
        found = [CFunc(_ctypes.dlsym(handle, name)) for name in names]
        return tuple(found) + (PyFunc(_ctypes.dlsym(handle, "membudget_hook_python")),)
    except OSError:
        return None  # a symbol is missing: not our interposer
    except Exception:
        pass
    try:
        import ctypes

        found = ctypes.CDLL(None)
        return tuple(getattr(found, name) for name in names) + (ctypes.pythonapi.membudget_hook_python,)
    except Exception:
        return None


def _membudget_jstr(text):
    out = []
    for ch in str(text):
        code = ord(ch)
        if ch == '"' or ch == "\\" or code < 0x20 or 0xD800 <= code <= 0xDFFF:
            out.append("\\u%04x" % code)
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _membudget_import_system():
    """importlib's PathFinder and module_from_spec, taken from the import system's own frozen
    modules, which importlib re-exports: importing importlib.util imports contextlib, collections
    and functools, 7 ms of every process on a Python whose site has not loaded them already
    (Debian's python3). importlib itself where those modules are not there (not CPython)."""
    try:
        import _frozen_importlib
        import _frozen_importlib_external

        return _frozen_importlib_external.PathFinder, _frozen_importlib.module_from_spec
    except (ImportError, AttributeError):
        import importlib.machinery
        import importlib.util

        return importlib.machinery.PathFinder, importlib.util.module_from_spec


def _membudget_chain():
    """Runs the next sitecustomize on sys.path (the user's or the distribution's), if any."""
    here = os.path.dirname(os.path.realpath(__file__))
    rest = [p for p in sys.path if os.path.realpath(p or os.curdir) != here]
    path_finder, module_from_spec = _membudget_import_system()
    spec = path_finder.find_spec("sitecustomize", rest)
    if spec is None or spec.loader is None:
        return
    if spec.origin and os.path.realpath(spec.origin) == os.path.realpath(__file__):
        return  # our own directory again, under another spelling
    module = module_from_spec(spec)
    ours = sys.modules.get("sitecustomize")
    # It runs under the name it expects; ours stays reachable as _membudget_sitecustomize.
    sys.modules["sitecustomize"] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules["sitecustomize"] = ours
        raise


def _membudget_main():
    here = os.path.dirname(os.path.abspath(__file__))
    if "_membudget_sitecustomize" in sys.modules:
        return  # already installed in this interpreter
    sys.modules["_membudget_sitecustomize"] = sys.modules.get(__name__)
    try:
        start = _membudget_install()
    except Exception:
        start = None
    try:
        _membudget_chain()
    finally:
        sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
        # The pytest plugin (PYTEST_PLUGINS names it) comes last on the path; its finder is made
        # now, or site's failing `import usercustomize` would make it while counting.
        if "membudget_pytest" in os.environ.get("PYTEST_PLUGINS", ""):
            sys.path.append(os.path.join(here, "pytest"))
            try:
                _membudget_import_system()[0].find_spec("membudget_pytest", [sys.path[-1]])
            except Exception:
                pass
        if start is not None:
            start()


_membudget_main()
