# membudget's pytest plugin (loaded through PYTEST_PLUGINS by the Python probe): runs
# _membudget_pytest_impl.py (beside this file) in this module, its code from the probe's cache
# (sitecustomize.py's _membudget_code), so that a pytest process does not compile it again where
# Python writes no bytecode. Without the probe it is compiled here.
import os
import sys


def _membudget_plugin():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_membudget_pytest_impl.py")
    load = getattr(sys.modules.get("_membudget_sitecustomize"), "_membudget_code", None)
    if load is not None:
        code = load(path)
    else:
        with open(path, "rb") as source:
            code = compile(source.read(), path, "exec", dont_inherit=True)
    exec(code, globals())


def _membudget_no_rewrite_cache():
    """pytest keeps its rewritten test modules in __pycache__ too: under the repository
    ($MEMBUDGET_SOURCE_ROOT, as sitecustomize.py does for imports) it reads none and writes
    none (a cache folder that cannot be made), so each run rewrites them as a fresh checkout would."""
    root = os.environ.get("MEMBUDGET_SOURCE_ROOT")
    if not root:
        return
    try:
        from _pytest.assertion import rewrite
    except ImportError:
        return
    get_cache_dir = getattr(rewrite, "get_cache_dir", None)
    if get_cache_dir is None:
        return
    prefix = os.path.join(root, "")
    nowhere = os.path.join(os.devnull, "membudget")

    def cache_dir(file_path):
        if str(file_path).startswith(prefix):
            return type(file_path)(nowhere)
        return get_cache_dir(file_path)

    rewrite.get_cache_dir = cache_dir


_membudget_no_rewrite_cache()
_membudget_plugin()
