# membudget's Python load probe (MEMBUDGET_LOAD=1, docs/load.md): in every Python process of a
# load scenario it answers the runner at each round's end on a Unix socket,
# $MEMBUDGET_OUT_DIR/<pid>.load.sock, one command per connection, from a daemon thread:
#   "retained\n"  -> collect() (gc.collect(), twice on a free-threaded build), then {"pid",
#                    "retained": live heap bytes, "how"}
#   "mark\n"      -> gc.collect(), then tracemalloc's live bytes by line (attribution run), or
#                    the sampled sites' (the measured run, MEMBUDGET_SITES_SAMPLE: mbmalloc-sites.c)
#   "sites N\n"   -> gc.collect(), the same again, compared with the mark: the N lines whose live
#                    bytes grew most since "mark" (sampled: {"sampled": the probe's JSON})
# Live bytes are the malloc interposer's (membudget_counters, through ctypes as sitecustomize.py
# reaches the interposer) when it is loaded, else tracemalloc's traced memory.
# It also turns SIGTERM (when the program leaves it at its default) into SystemExit, so that the
# probes' figures are written at exit when the runner stops the service.
import os
import sys


def _membudget_load_install():
    out_dir = os.environ.get("MEMBUDGET_OUT_DIR")
    if not out_dir or os.environ.get("MEMBUDGET_LOAD") != "1" or "_membudget_load" in sys.modules:
        return
    sys.modules["_membudget_load"] = sys.modules.get(__name__)
    import _thread
    import gc
    import socket

    try:
        import _tracemalloc as tracer
    except ImportError:
        tracer = None
    frames = 0
    if os.environ.get("MEMBUDGET_LOAD_SITES") == "1" and tracer is not None:
        # Started before the program (and before sitecustomize's own start, which then does
        # nothing): enough frames to climb out of the stdlib to the line that keeps the object.
        frames = 10
        tracer.start(frames)

    live = None
    if "mbmalloc" in os.environ.get("LD_PRELOAD", ""):
        try:
            import ctypes

            found = ctypes.CDLL(None)
            if hasattr(found, "membudget_live"):
                live = found.membudget_live
                live.restype = ctypes.c_longlong
                live.argtypes = []
            else:
                # membudget_counters(out[4]): live, peak, total, count; the first is what we need.
                counters = found.membudget_counters
                counters.restype = None
                counters.argtypes = [ctypes.POINTER(ctypes.c_int64)]
                buffer = (ctypes.c_int64 * 4)()

                def live():
                    counters(buffer)
                    return buffer[0]

        except Exception:
            live = None

    # On a free-threaded build an object's reference count is biased to the thread that made it:
    # when this thread (the socket's) drops the last reference to an object another thread owns,
    # the object is queued for its owner, which frees it only when it next runs Python code, and a
    # service waiting in sleep() or select() does not. The collector merges those queues while the
    # world is stopped, so a second collection frees what the first one queued (without it, the
    # collected cycles of a sleeping service's main thread still counted as live).
    free_threaded = "t" in getattr(sys, "abiflags", "")

    def collect():
        gc.collect()
        if free_threaded:
            gc.collect()

    def retained():
        collect()
        if live is not None:
            return live(), "interposer-live-after-gc-collect"
        if tracer is not None and tracer.is_tracing():
            return tracer.get_traced_memory()[0], "tracemalloc-traced-after-gc-collect"
        return None, "no heap probe in this run"

    # Sites sampled by the allocation probe in this (measured) run: asked of it at a round's end.
    sampled = None
    if live is not None and os.environ.get("MEMBUDGET_SITES_SAMPLE", "0") not in ("", "0"):
        try:
            import ctypes

            sampled = ctypes.pythonapi.membudget_sites_retained  # PyDLL: the GIL stays held
            sampled.restype = ctypes.py_object
            sampled.argtypes = [ctypes.c_int]
        except Exception:
            sampled = None

    state = {"mark": None}
    ours = (os.path.abspath(__file__), os.path.abspath(__file__).replace(".pyc", ".py"))
    stdlib = os.path.dirname(os.path.abspath(os.__file__)) + os.sep

    def is_library(name):
        return name.startswith(stdlib) or "site-packages" in name or name.startswith("<")

    def fold():
        """Live traced bytes and blocks by the innermost user line. Equivalent to a snapshot's
        compare_to grouped by that line, without building one: Snapshot.filter_traces and
        compare_to("traceback") took 4 s and 2.7 s on 28 k traces; this takes a fraction of one."""
        collect()
        enabled = gc.isenabled()
        gc.disable()
        try:
            traces = tracer._get_traces()
        finally:
            if enabled:
                gc.enable()
        by_traceback = {}
        for trace in traces:
            tb = trace[2]
            entry = by_traceback.get(tb)
            if entry is None:
                by_traceback[tb] = [trace[1], 1]
            else:
                entry[0] += trace[1]
                entry[1] += 1
        del traces
        by_line = {}
        for tb, (size, count) in by_traceback.items():
            # Raw tracebacks run from the most recent frame; our own objects are not the program's.
            if not tb or any(frame[0] in ours for frame in tb):
                continue
            frame = next((f for f in tb if not is_library(f[0])), tb[0])
            entry = by_line.get(frame)
            if entry is None:
                by_line[frame] = [size, count, tb, size]
            else:
                entry[0] += size
                entry[1] += count
                if size > entry[3]:
                    entry[2] = tb
                    entry[3] = size
        return by_line

    def sites_since_mark(limit):
        mark = state["mark"]
        if mark is None:
            return {"error": "no mark: no snapshot at the end of warm-up"}
        now = fold()
        grown = []
        for frame, (size, count, tb, _) in now.items():
            before = mark.get(frame)
            diff = size - (before[0] if before else 0)
            if diff > 0:
                grown.append((diff, count - (before[1] if before else 0), frame, tb))
        grown.sort(key=lambda g: -g[0])
        site_module = sys.modules.get("_membudget_sitecustomize")
        sampler = getattr(site_module, "_membudget_sites_class", None)
        finder = getattr(sampler() if sampler else None, "function_at", None)
        spans = {}
        out = []
        for size, count, (filename, lineno), tb in grown[:limit]:
            site = {"location": "%s:%d" % (filename, lineno), "bytes": size, "count": count}
            function = finder(spans, filename, lineno) if finder else None
            if function:
                site["function"] = function
            site["stack"] = ["%s:%d" % f for f in tb[:5]]
            out.append(site)
        return {"sites": out, "frames": frames}

    def answer(command):
        import json

        words = command.split()
        verb = words[0] if words else ""
        reply = {"pid": os.getpid()}
        if verb == "retained":
            value, how = retained()
            reply.update(retained=value, how=how)
        elif verb == "mark" and sampled is not None:
            collect()
            try:
                sampled(1)
                state["mark"] = "sampled"
                reply["marked"] = True
            except Exception as error:
                reply["error"] = "the sampled sites could not be marked: %s" % error
        elif verb == "sites" and sampled is not None and state["mark"] == "sampled":
            collect()
            try:
                reply["sampled"] = json.loads(sampled(0))
            except Exception as error:
                reply["error"] = "no sampled sites: %s" % error
        elif verb == "mark":
            if tracer is None or not tracer.is_tracing():
                reply["error"] = "tracemalloc is not tracing"
            else:
                state["mark"] = {frame: entry[:2] for frame, entry in fold().items()}
                reply["marked"] = True
        elif verb == "sites":
            reply.update(sites_since_mark(int(words[1]) if len(words) > 1 else 10))
        else:
            reply["error"] = "unknown command %r" % verb
        return json.dumps(reply)

    def serve(listener):
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            try:
                conn.settimeout(30)
                data = b""
                while not data.endswith(b"\n"):
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                try:
                    text = answer(data.decode("utf-8", "replace"))
                except Exception as error:  # the answer fails, never the program
                    text = '{"pid": %d, "error": %r}' % (os.getpid(), str(error).replace('"', "'"))
                conn.sendall(text.encode("utf-8") + b"\n")
            except OSError:
                pass
            finally:
                try:
                    conn.close()
                except OSError:
                    pass

    holder = {"listener": None}

    def listen():
        path = os.path.join(out_dir, "%d.load.sock" % os.getpid())
        try:
            os.unlink(path)
        except OSError:
            pass
        try:
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind(path)
            listener.listen(8)
            holder["listener"] = listener
            _thread.start_new_thread(serve, (listener,))
        except Exception:
            pass

    def after_fork_in_child():
        # The parent's thread did not survive the fork, and its socket is the parent's.
        old = holder["listener"]
        if old is not None:
            try:
                old.close()
            except OSError:
                pass
        state["mark"] = None
        listen()

    listen()
    os.register_at_fork(after_in_child=after_fork_in_child)

    try:
        import signal

        if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:

            def on_term(signum, frame):
                # What the default action would have said (128 + 15), through a normal exit: atexit
                # handlers run, and with them the probes that write their figures. A second SIGTERM
                # (the runner's wrapper signals the group, then the whole tree) must not cut the
                # exit short in the middle of writing them: SIGKILL after the grace still applies.
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
                raise SystemExit(128 + signum)

            signal.signal(signal.SIGTERM, on_term)
    except Exception:
        pass


try:
    _membudget_load_install()
except Exception:
    pass
