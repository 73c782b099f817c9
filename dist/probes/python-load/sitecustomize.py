# membudget's load-scenario hook: second on PYTHONPATH, after membudget's own sitecustomize, which
# runs "the next sitecustomize on sys.path" as the user's. This one loads the load probe
# (membudget_load.py, beside that sitecustomize) and then runs the next one after itself: the
# user's own sitecustomize still runs, and sys.path is left as it was found.
import os
import sys


def _membudget_load_hook():
    here = os.path.dirname(os.path.realpath(__file__))
    probe = os.path.join(os.path.dirname(here), "python")
    try:
        sys.path.insert(0, probe)
        try:
            import membudget_load  # noqa: F401 (it installs itself)
        finally:
            sys.path.remove(probe)
    except Exception:
        pass
    ours = {here, probe}
    rest = [p for p in sys.path if os.path.realpath(p or os.curdir) not in ours]
    import importlib.machinery
    import importlib.util

    try:
        spec = importlib.machinery.PathFinder.find_spec("sitecustomize", rest)
        if spec is not None and spec.loader is not None:
            if not spec.origin or os.path.dirname(os.path.realpath(spec.origin)) not in ours:
                module = importlib.util.module_from_spec(spec)
                sys.modules["sitecustomize"] = module
                spec.loader.exec_module(module)
    finally:
        sys.path[:] = [p for p in sys.path if os.path.realpath(p or os.curdir) != here]


_membudget_load_hook()
