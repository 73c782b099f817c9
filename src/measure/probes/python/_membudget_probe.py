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
    # (mark, flush, active, disable, hook_python, sites_start, sites_json).
    lib = _membudget_functions() if "mbmalloc" in os.environ.get("LD_PRELOAD", "") else None
    interposer = lib is not None and lib[2]() == 1
    hooked = False
    exact_blocks = False
    if interposer:
        # pymalloc serves small objects from its own arenas, where malloc never sees them: the
        # interposer wraps Python's MEM and OBJ allocators too (called with the GIL held).
        # A free-threaded build's GC expects every object at the start of its block: no header
        # there, a table of sizes instead. MEMBUDGET_PYTHON_TABLE=1 takes that way on any build
        # (the tests check it where no free-threaded Python is installed).
        exact_blocks = "t" in getattr(sys, "abiflags", "") or os.environ.get("MEMBUDGET_PYTHON_TABLE") == "1"
        try:
            hooked = lib[4](1 if exact_blocks else 0) == 1
        except Exception:
            hooked = False
        if not hooked and os.environ.get("PYTHONMALLOC") != "malloc":
            lib[3](b"Python's allocator could not be wrapped: the allocation probe would miss pymalloc's objects")
            interposer = False

    # MEMBUDGET_HEAP=0: a clean run that times the workload and its RSS, with no heap probe at all.
    want_heap = os.environ.get("MEMBUDGET_HEAP") != "0"
    # Sampled sites in this run (MEMBUDGET_SITES_SAMPLE=mean interval in bytes): the interposer's
    # Python hook samples blocks and keeps their stacks (mbmalloc-sites.c); the figures are untouched.
    try:
        sample_every = int(os.environ.get("MEMBUDGET_SITES_SAMPLE", "0")) if hooked else 0
    except ValueError:
        sample_every = 0
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

    state = {
        "pid": os.getpid(),
        "written": False,
        "pause": 0.0,
        "collections": 0,
        "start": 0.0,
        "quiet": False,
        "begun": False,
        "sampling": False,
        "sampled": None,
    }
    sampler = _membudget_sites_class() if tracer and sites_limit else None
    sites = sampler(tracer, sites_limit, gc, perf_counter) if sampler else None

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
            "pythonTable": "true" if hooked and exact_blocks else "false",
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
        if state["sampled"] is not None:
            extra["sites"] = state["sampled"]
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
        if not state["begun"]:
            begin()  # site never called execusercustomize (not site.main()): figures of nothing
        if lib is not None:
            # Flushed here, the malloc totals leave out interpreter teardown, as they leave out
            # start-up; and first, so that they leave out our own file too (its length varies).
            lib[1](exit_kind.encode())
            if state["sampling"]:
                # After the flush: the text's memory is not the workload's.
                state["sampling"] = False
                try:
                    state["sampled"] = lib[6]()
                except Exception:
                    state["sampled"] = None
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

    def begin():
        # Where the program starts (see start): everything before is start-up.
        # Where heap figures are measured, a full collection first also empties CPython's free
        # lists, so that what the program then allocates does not depend on what start-up left in
        # them (whether this process compiled our code or loaded it, the user's sitecustomize):
        # 24 allocations of difference on a 3,000-row loop without it. It is not the program's:
        # not in its GC figures. A clean run (time, RSS) has no heap figure to steady and would
        # only be changed by it (it moved the peak RSS of a free-threaded build), so none there.
        state["begun"] = True
        if sample_every > 0:
            # Before the collection and the mark: what the call allocates and frees is start-up's.
            try:
                state["sampling"] = lib[5](min(sample_every, 1 << 30), sys.hexversion) == 1
            except Exception:
                state["sampling"] = False
        if want_heap:
            state["quiet"] = True
            try:
                gc.collect()
            finally:
                state["quiet"] = False
        # The GC figures cover the heap figures' span: start-up's collections are not the program's.
        state.update(pause=0.0, collections=0)
        if tracer is not None:
            tracer.start(_MEMBUDGET_SITE_FRAMES if sites is not None else 1)
        if sites is not None:
            sites.restart()
        if lib is not None:
            lib[0]()

    def start():
        # Called once the user's sitecustomize has run. Start-up still goes on: site.main() then
        # calls execusercustomize() when the user site is enabled (every CPython from 3.6 to 3.13
        # looks the name up at that call), an import that searches every folder on sys.path and
        # lists a folder again if it changed meanwhile. The figures begin after it, so that it
        # counts neither its search nor what usercustomize keeps. No profile or trace function:
        # on 3.12+, setting one instruments every code object that runs afterwards.
        site = sys.modules.get("site")
        user = getattr(site, "execusercustomize", None)
        if not callable(user) or not getattr(site, "ENABLE_USER_SITE", False):
            begin()
            return

        def execusercustomize():
            site.execusercustomize = user
            try:
                user()
            finally:
                begin()

        site.execusercustomize = execusercustomize

    # Hooked last, once everything they call is defined.
    gc.callbacks.append(on_gc)
    atexit.register(at_exit)
    os._exit = _exit
    if hasattr(os, "register_at_fork"):  # Python >= 3.7; forked children of 3.6 are not measured
        os.register_at_fork(after_in_child=after_fork_in_child)
    return start


# Frames kept per allocation: enough to climb out of the stdlib to the user's line; each frame
# costs (10 frames run about 2-4x slower than 1 on call-heavy code). MEMBUDGET_SITES_FRAMES overrides.
try:
    _MEMBUDGET_SITE_FRAMES = min(100, max(1, int(os.environ.get("MEMBUDGET_SITES_FRAMES", "10"))))
except ValueError:
    _MEMBUDGET_SITE_FRAMES = 10


def _membudget_sites_class():
    """The attribution sampler, _membudget_sites.py beside this file, loaded as this file is (with
    sitecustomize's cached code) into this module: only an attribution run pays for it. None if
    it cannot be loaded: the run then has no sites, and the runner says so."""
    try:
        if "_membudget_sites" not in globals():
            path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_membudget_sites.py")
            exec(_membudget_code(path), globals())
        return _membudget_sites
    except Exception:
        return None


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

        class Obj(_ctypes._SimpleCData):
            _type_ = "O"

        class PyText(_ctypes.CFuncPtr):
            _flags_ = _ctypes.FUNCFLAG_CDECL | _ctypes.FUNCFLAG_PYTHONAPI
            _restype_ = Obj

        handle = _ctypes.dlopen(None, 0)
        found = [CFunc(_ctypes.dlsym(handle, name)) for name in names]
        return tuple(found) + (
            PyFunc(_ctypes.dlsym(handle, "membudget_hook_python")),
            PyFunc(_ctypes.dlsym(handle, "membudget_sites_start")),
            PyText(_ctypes.dlsym(handle, "membudget_sites_json")),
        )
    except OSError:
        return None  # a symbol is missing: not our interposer
    except Exception:
        pass
    try:
        import ctypes

        found = ctypes.CDLL(None)
        text = ctypes.pythonapi.membudget_sites_json
        text.restype = ctypes.py_object
        api = ctypes.pythonapi
        return tuple(getattr(found, name) for name in names) + (api.membudget_hook_python, api.membudget_sites_start, text)
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
    """importlib's PathFinder and module_from_spec from the import system's frozen modules, which
    importlib re-exports: importlib.util imports contextlib, collections and functools, ~7 ms a
    process where site has not (Debian's python3). importlib itself elsewhere (not CPython)."""
    try:
        from _frozen_importlib import module_from_spec
        from _frozen_importlib_external import PathFinder
    except ImportError:
        from importlib.machinery import PathFinder
        from importlib.util import module_from_spec
    return PathFinder, module_from_spec


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


def _membudget_runs_pytest():
    """Whether this process's command line runs pytest (`pytest`, `py.test`, `-m pytest`): the
    whole command line, from sys.orig_argv (3.10+) or /proc (sys.argv still lacks `-m`'s module)."""
    argv = getattr(sys, "orig_argv", None)
    if argv is None:
        try:
            with open("/proc/self/cmdline", "rb") as cmdline:
                argv = cmdline.read().decode("utf-8", "replace").split("\0")
        except OSError:
            argv = sys.argv
    for arg in argv:
        name = os.path.basename(arg)
        if name.startswith("pytest") or name.startswith("py.test"):
            return True
    return False


def _membudget_pytest_finder(folder):
    """Makes the pytest plugin importable by its name (PYTEST_PLUGINS names it) from membudget's
    code cache, by a finder last on sys.meta_path. Not a folder on sys.path: there pytest's
    assertion rewriter would take the plugin, compile it inside the measured window and keep it in
    a __pycache__ beside it, so that the first run after an install counted 280 KB and 1,800
    allocations that the next run did not; and every import of the program would search one more
    folder. In a pytest process both of the plugin's files are put in the cache now, at start-up."""
    try:
        from _frozen_importlib import ModuleSpec
    except ImportError:
        from importlib.machinery import ModuleSpec
    entry = os.path.join(folder, "membudget_pytest.py")
    if _membudget_runs_pytest():
        # Only here: compiling interns the code's names, and from 3.12 an interned string is
        # immortal, so a process that compiled them counts a few allocations fewer afterwards
        # (8 of 178,581 on 3.14). A pytest run the probe cannot tell (xdist's workers) finds the
        # cache filled by its controller, or compiles the plugin in its window once.
        _membudget_warm(entry)
        _membudget_warm(os.path.join(folder, "_membudget_pytest_impl.py"))

    class Loader:
        @staticmethod
        def create_module(spec):
            return None  # the default module

        @staticmethod
        def exec_module(module):
            exec(_membudget_code(entry), module.__dict__)

    class Finder:
        @staticmethod
        def find_spec(name, path=None, target=None):
            if name != "membudget_pytest":
                return None
            spec = ModuleSpec(name, Loader, origin=entry)
            spec.has_location = True  # __file__: the plugin finds its other file beside it
            return spec

    sys.meta_path.append(Finder)


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
        if "membudget_pytest" in os.environ.get("PYTEST_PLUGINS", ""):
            try:
                _membudget_pytest_finder(os.path.join(here, "pytest"))
            except Exception:
                pass
        if start is not None:
            start()


_membudget_main()
