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


_membudget_plugin()
