# membudget's Python probe: first on PYTHONPATH, it measures GC and (with the malloc interposer,
# or tracemalloc without it) the heap, writes $MEMBUDGET_OUT_DIR/<pid>.python.json once per
# process, and then runs the user's own sitecustomize as if we were not here.
#
# Rules it keeps: never print, never raise into the program, import nothing heavy (the json and
# tracemalloc Python modules pull in re/pickle/...; we use os, gc, time and _tracemalloc only),
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

    # The interposer (LD_PRELOAD) exports membudget_* functions into the global symbol scope.
    lib = None
    if "mbmalloc" in os.environ.get("LD_PRELOAD", ""):
        try:
            import ctypes

            found = ctypes.CDLL(None)
            lib = (found.membudget_mark, found.membudget_flush, found.membudget_active, found.membudget_disable)
            lib[1].argtypes = [ctypes.c_char_p]
            lib[1].restype = None
            lib[2].restype = ctypes.c_int
            lib[3].argtypes = [ctypes.c_char_p]
            lib[3].restype = None
        except Exception:
            lib = None
    interposer = lib is not None and lib[2]() == 1
    if interposer and os.environ.get("PYTHONMALLOC") != "malloc":
        # pymalloc serves small objects from its own arenas: malloc sees almost nothing (and
        # malloc_debug pads every block); tracemalloc measures the heap then.
        lib[3](b"PYTHONMALLOC is not malloc: the allocation probe would miss pymalloc's objects")
        interposer = False

    # MEMBUDGET_HEAP=0: a clean run that times the workload and its RSS, with no heap probe at all.
    want_heap = os.environ.get("MEMBUDGET_HEAP") != "0"
    want_tracemalloc = (not interposer and want_heap) or os.environ.get("MEMBUDGET_TRACEMALLOC") == "1"
    tracer = None
    if want_tracemalloc:
        try:
            import _tracemalloc as tracer
        except ImportError:
            tracer = None

    state = {"pid": os.getpid(), "written": False, "pause": 0.0, "collections": 0, "start": 0.0}

    def on_gc(phase, info):
        if phase == "start":
            state["start"] = perf_counter()
        else:
            state["pause"] += perf_counter() - state["start"]
            state["collections"] += 1

    def jstr(text):
        out = []
        for ch in str(text):
            code = ord(ch)
            if ch == '"' or ch == "\\" or code < 0x20 or 0xD800 <= code <= 0xDFFF:
                out.append("\\u%04x" % code)
            else:
                out.append(ch)
        return '"' + "".join(out) + '"'

    def write(exit_kind):
        if state["written"] or state["pid"] != os.getpid():
            return
        state["written"] = True
        figures = {"gcPause": repr(float(state["pause"])), "gcCollections": str(state["collections"])}
        extra = {"interposer": "true" if interposer else "false"}
        if tracer is not None and tracer.is_tracing():
            peak = str(tracer.get_traced_memory()[1])
            if interposer:
                extra["tracemallocPeak"] = peak
            else:
                figures["peakHeap"] = peak
        elif tracer is not None:
            extra["tracemalloc"] = '"stopped by the program: no peak"'
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

    gc.callbacks.append(on_gc)
    atexit.register(at_exit)
    os._exit = _exit
    os.register_at_fork(after_in_child=after_fork_in_child)

    def start():
        # Called once the user's sitecustomize has run: everything before is start-up.
        if tracer is not None:
            tracer.start()
        if lib is not None:
            lib[0]()

    return start


def _membudget_chain():
    """Runs the next sitecustomize on sys.path (the user's or the distribution's), if any."""
    here = os.path.dirname(os.path.realpath(__file__))
    rest = [p for p in sys.path if os.path.realpath(p or os.curdir) != here]
    import importlib.machinery
    import importlib.util

    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
    if spec is None or spec.loader is None:
        return
    if spec.origin and os.path.realpath(spec.origin) == os.path.realpath(__file__):
        return  # our own directory again, under another spelling
    module = importlib.util.module_from_spec(spec)
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
        if start is not None:
            start()


_membudget_main()
