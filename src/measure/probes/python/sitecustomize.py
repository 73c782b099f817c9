# membudget's Python probe, first on PYTHONPATH: runs _membudget_probe.py (beside this file) in
# this module, with its compiled code kept in membudget's cache ($MEMBUDGET_PYCACHE).
#
# Python compiles a module from source at every start when it may not write bytecode beside it
# (PYTHONDONTWRITEBYTECODE=1, common in containers, or a read-only folder): for the probe that is
# ~5 ms, 23 M instructions, in every Python process of the workload. This file is small so that
# compiling it costs little; the probe's code object comes from the cache, keyed by the
# interpreter's bytecode version and the source's mtime and size, as a .pyc is.
import sys


def _membudget_cached(path):
    """The cache file of the Python file at `path` (its code object), or None without a cache."""
    import os

    cache = os.environ.get("MEMBUDGET_PYCACHE")
    if not cache:
        return None
    st = os.stat(path)
    return os.path.join(
        cache,
        "%s-%s-%x-%x-%x.code"
        % (
            os.path.basename(path).rsplit(".", 1)[0],
            sys.implementation.cache_tag,
            sys.hexversion,
            st.st_mtime_ns,
            st.st_size,
        ),
    )


def _membudget_warm(path):
    """Puts the code of `path` in the cache now unless it is there: a file the probe loads later,
    inside a measured window (the pytest plugin), is then compiled at start-up, once, and every
    window loads it the same way; without this the first run after an install counted the compile
    (1.45 MB and 8,000 allocations more than the next run of a pytest scenario)."""
    import os

    name = _membudget_cached(path)
    if name and not os.path.exists(name):
        _membudget_code(path)


def _membudget_code(path):
    """The code object of the Python file at `path`: cached, else compiled (and cached)."""
    import marshal
    import os

    name = _membudget_cached(path)
    if name:
        try:
            with open(name, "rb") as cached:
                code = marshal.loads(cached.read())
            if type(code) is type(_membudget_code.__code__):
                return code
        except (OSError, ValueError, EOFError, TypeError):
            pass  # missing or damaged: compiled again below
    with open(path, "rb") as source:
        code = compile(source.read(), path, "exec", dont_inherit=True)
    if name:
        temp = "%s.%d.tmp" % (name, os.getpid())
        try:
            with open(temp, "wb") as out:
                out.write(marshal.dumps(code))
            os.replace(temp, name)  # atomic: concurrent processes write the same bytes
        except OSError:
            try:
                os.unlink(temp)
            except OSError:
                pass
    return code


def _membudget_no_pyc():
    """The repository's own modules compile from source at every start and write no bytecode
    ($MEMBUDGET_SOURCE_ROOT): what they allocate then does not depend on whether an earlier step
    left a __pycache__ (a fresh base worktree has none). Installed packages keep their caches."""
    import os

    root = os.environ.get("MEMBUDGET_SOURCE_ROOT")
    if not root:
        return
    try:
        from importlib import _bootstrap_external as bootstrap
    except ImportError:
        return
    cache_from_source = bootstrap.cache_from_source
    prefix = os.path.join(root, "")

    def no_cache_in_repository(path, debug_override=None, *, optimization=None):
        # The import system takes NotImplementedError as "no cache for this file" (as when
        # sys.implementation.cache_tag is None): it compiles the source and writes nothing.
        if str(path).startswith(prefix):
            raise NotImplementedError("membudget: no bytecode cache for the repository's files")
        return cache_from_source(path, debug_override, optimization=optimization)

    bootstrap.cache_from_source = no_cache_in_repository


def _membudget_run():
    import os

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_membudget_probe.py")
    try:
        code = _membudget_code(path)
    except Exception:
        return  # never raise into the program: the runner reports the missing figures
    exec(code, globals())


_membudget_no_pyc()
_membudget_run()
