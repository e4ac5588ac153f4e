"""bitfold's hardware side: the integer IR and its reference, passes, RTL, estimates, synthesis.

Depends on numpy and amaranth only; never on torch or :mod:`bnn`.
"""

from pathlib import Path as _Path


def source_state() -> dict:
    """``{module file: (mtime in ns, size)}`` of the package's source as it is on disk now."""
    root = _Path(__file__).resolve().parent
    out = {}
    for p in root.rglob("*.py"):
        if p.name.startswith("."):  # an editor's lock or backup file, not a module
            continue
        try:
            st = p.stat()
        except OSError:
            continue
        out[str(p.relative_to(root))] = (st.st_mtime_ns, st.st_size)
    return out


# The source as it was when this process imported the package: the Verilog cache
# (hw/verilog_cache.py) caches nothing in a process whose source has changed on disk since.
IMPORTED_SOURCE = source_state()
