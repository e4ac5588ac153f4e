"""A cache of emitted Verilog: a design compiled again (the same plan, top name and interface, by
the same code and tools) is read back instead of elaborated, which for a large design is most of
``compile``'s time (Amaranth builds a netlist cell by cell).

The key is a SHA-256 of everything emission reads:

* the plan, pickled (weights, thresholds, folding, every unit's parameters and the IR nodes it was
  planned from; a dataclass as its fields, without the cached properties computed from them):
  equal plans built by the same code pickle to the same bytes; a plan that pickles differently
  only misses, it never hits another design's entry;
* the top's name and interface;
* the source of the ``hw`` package (the plans, the Amaranth components, the Verilog clean-up), so
  an edited checkout never reads Verilog its old code emitted. A process whose ``hw`` source has
  changed on disk since it imported the package (a long-lived kernel or test run during an edit)
  runs code the files no longer show: it neither reads nor writes the cache;
* the Python version, the Amaranth version and the Yosys that writes the Verilog (which one, and
  its version).

Module constants changed at run time (a test patching one) are not in the key: such a process
should emit with ``cache=False``.

Entries are files ``<user cache>/verilog/<key>.v``: the SHA-256 of the Verilog on the first
line (an entry damaged since is deleted, not read), then the Verilog. They are written atomically
(two processes emitting the same design at once both write a complete entry); a hit refreshes the
entry's time, and after each store the entries beyond the :data:`MAX_BYTES` most recently used are
deleted, with temporary files an interrupted writer left more than an hour ago. Deleting the
folder is always safe.
"""

import dataclasses
import functools
import hashlib
import io
import os
import pickle
import sys
import time
from importlib import metadata
from pathlib import Path

from .io import atomic_write_bytes, user_cache

__all__ = ["key", "load", "store", "cache_dir", "MAX_BYTES"]

MAX_BYTES = 512 * 2**20  # the most recently used entries up to this many bytes are kept
STALE_TMP_S = 3600  # a writer's temporary file older than this was left by an interrupted one


def cache_dir() -> Path:
    return user_cache() / "verilog"


@functools.lru_cache(maxsize=1)
def _code() -> bytes | None:
    """A digest of the ``hw`` package's source (as this process imported it) and of the Python,
    Amaranth and Yosys emission runs with; ``None`` when the source cannot be read or has changed
    since the import."""
    import hw

    root = Path(hw.__file__).resolve().parent
    h = hashlib.sha256()
    try:
        for rel in sorted(hw.IMPORTED_SOURCE):
            h.update(rel.encode() + b"\0" + (root / rel).read_bytes() + b"\0")
    except OSError:
        return None
    if hw.source_state() != hw.IMPORTED_SOURCE:
        return None
    h.update(repr(sys.version_info[:2]).encode())
    try:
        h.update(f"amaranth={metadata.version('amaranth')}".encode())
    except metadata.PackageNotFoundError:
        h.update(b"amaranth=none")
    h.update(_yosys().encode())
    return h.digest()


def _yosys() -> str:
    """The Yosys that writes the Verilog (:func:`hw.verilog.yosys`) and its version."""
    from .verilog import yosys

    try:
        y = yosys()
        return f"{y.__name__}={y.version()}"
    except Exception as e:  # no Yosys at all: emission itself will say so
        return f"none ({type(e).__name__})"


def key(plan, name: str, interface) -> str | None:
    """The cache key of ``plan`` emitted as top ``name`` with ``interface``; ``None`` (not cached)
    when the plan cannot be pickled or the ``hw`` source is not what this process runs."""
    import hw

    code = _code()
    if code is None or hw.source_state() != hw.IMPORTED_SOURCE:
        return None
    h = hashlib.sha256(code)
    h.update(f"{name}\0{interface}\0".encode())
    buf = io.BytesIO()
    try:
        _FieldsPickler(buf, protocol=5).dump(plan)
    except Exception:  # a plan holding something unpicklable: emit it, uncached
        return None
    h.update(buf.getbuffer())
    return h.hexdigest()


class _FieldsPickler(pickle.Pickler):
    """Pickles a dataclass as its type and its fields' values only: what its ``cached_property``
    values hold (computed on first use, by emission among others) is derived from them and would
    make one plan pickle differently before and after it was emitted."""

    def reducer_override(self, obj):
        if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
            return _fields, (type(obj), tuple(getattr(obj, f.name) for f in dataclasses.fields(obj)))
        return NotImplemented


def _fields(cls, values):  # named by the pickles of :class:`_FieldsPickler`, which are never loaded
    raise NotImplementedError


def load(k: str | None) -> str | None:
    """The Verilog stored under key ``k``, or ``None`` (also for an entry whose text no longer
    matches the digest stored with it: it is deleted)."""
    if k is None:
        return None
    p = cache_dir() / f"{k}.v"
    try:
        data = p.read_bytes()
    except OSError:
        return None
    digest, _, body = data.partition(b"\n")
    if hashlib.sha256(body).hexdigest().encode() != digest:
        p.unlink(missing_ok=True)
        return None
    try:
        os.utime(p)  # used: the newest
    except OSError:
        pass
    return body.decode("utf-8")


def store(k: str | None, text: str) -> None:
    """Store ``text`` under key ``k`` (nothing when ``k`` is ``None``), then trim the cache. A cache
    that cannot be written (a read-only home, a full disk) costs the next compile its time, no more."""
    if k is None:
        return
    body = text.encode("utf-8")
    try:
        atomic_write_bytes(cache_dir() / f"{k}.v", hashlib.sha256(body).hexdigest().encode() + b"\n" + body)
        _trim()
    except OSError:
        pass


def _trim(limit: int | None = None) -> None:
    limit = MAX_BYTES if limit is None else limit
    entries = []
    now = time.time()
    for p in cache_dir().iterdir():
        try:
            st = p.stat()
        except OSError:
            continue
        if p.name.endswith(".v"):
            entries.append((st.st_mtime, st.st_size, p))
        elif p.name.endswith(".tmp") and now - st.st_mtime > STALE_TMP_S:
            p.unlink(missing_ok=True)
    total = 0
    for _, size, p in sorted(entries, reverse=True):
        total += size
        if total > limit:
            p.unlink(missing_ok=True)
