"""Provenance: every derived result records what it was computed from, and is believed only while
that is still what the run holds.

A result file (``check.json``, ``rtl/manifest.json``, ``sim/sim.json``, ``synth/<family>.json``,
``report/report.json``) carries a ``provenance`` block::

    "provenance": {
      "bitfold": "0.1.0", "created": "2026-11-29T20:53:11Z", "command": "bitfold sim build/x",
      "inputs":  {"rtl/bitfold_top.v": "sha256:...", "rtl/ir.hw.json": "sha256:...", ...},
      "outputs": {"report.md": "sha256:...", ...},            # files written beside it, if any
      "tools":   {"verilator": "5.048", "cocotb": "2.1.0"},  # versions it ran with
      "options": {...},                                        # what the command was asked
      "digest":  "sha256:..."                                  # of the document without this field
    }

A result is **fresh** when every input still has the recorded hash, every output too, and every
input that is itself a result is fresh; otherwise it is **stale** (and :func:`status` says which
file changed and which command refreshes it). A result whose digest does not match was edited or
damaged after bitfold wrote it: reading it is an error naming the file. ``bitfold compile``
removes the results it invalidated (:func:`invalidate`); readers never show a stale one as
current.
"""

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from hw.errors import BitfoldError

from . import __version__
from .schema import VERSIONS, read_json

__all__ = ["file_digest", "bytes_digest", "stamp", "read_result", "Status", "status", "result_status",
           "invalidate", "refresh_command", "tool_versions", "RESULT_KINDS"]

# result file (relative to the run) -> its schema; synthesis results are per family
RESULT_KINDS = {"check.json": "check", "rtl/manifest.json": "manifest", "sim/sim.json": "sim",
                "report/report.json": "report"}
FAMILIES = ("xc7", "ice40", "ecp5")
for _fam in FAMILIES:
    RESULT_KINDS[f"synth/{_fam}.json"] = "synth"
BOARDS = ("ulx3s", "orangecrab", "icebreaker")  # bitfold.deploy.BOARDS
for _board in BOARDS:
    RESULT_KINDS[f"board/{_board}/deploy.json"] = "deploy"


def bytes_digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


_DIGESTS: dict = {}


def file_digest(path) -> str | None:
    """``sha256:<hex>`` of a file's content, or None when it does not exist (memoized by inode,
    size and modification time, so a summary hashes each file once)."""
    path = Path(path)
    try:
        st = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None
    if not path.is_file():
        return None
    key = (str(path.resolve()), st.st_ino, st.st_size, st.st_mtime_ns)
    if key not in _DIGESTS:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        if len(_DIGESTS) > 4096:
            _DIGESTS.clear()
        _DIGESTS[key] = "sha256:" + h.hexdigest()
    return _DIGESTS[key]


def tool_versions(*packages) -> dict:
    """``{package: version}`` of installed distributions (absent ones are left out)."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for p in packages:
        try:
            out[p] = version(p)
        except PackageNotFoundError:
            pass
    return out


def _canonical(doc) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), allow_nan=True).encode()


def _digest_of(doc) -> str:
    body = dict(doc)
    prov = dict(body.get("provenance") or {})
    prov.pop("digest", None)
    body["provenance"] = prov
    return bytes_digest(_canonical(body))


def stamp(doc: dict, kind: str, *, command: str, inputs: dict, outputs: dict | None = None,
          tools: dict | None = None, options: dict | None = None) -> dict:
    """``doc`` as a result of schema ``kind`` with its provenance block (see the module docstring).
    ``inputs`` / ``outputs``: ``{path relative to the run: digest}``."""
    prov = {"bitfold": __version__, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "command": command, "inputs": dict(sorted(inputs.items()))}
    if outputs:
        prov["outputs"] = dict(sorted(outputs.items()))
    if tools:
        prov["tools"] = dict(tools)
    if options is not None:
        prov["options"] = options
    out = {"format": f"bitfold-{kind}", "version": VERSIONS[kind],
           **{k: v for k, v in doc.items() if k not in ("format", "version", "provenance")},
           "provenance": prov}
    # what was written must be what is read back: the digest covers the JSON round trip
    out = json.loads(json.dumps(out))
    out["provenance"]["digest"] = _digest_of(out)
    return out


def refresh_command(run, rel: str) -> str:
    """The command that (re)writes result ``rel`` of ``run``."""
    run = str(run)
    if rel == "check.json":
        return f"bitfold check {run}"
    if rel.startswith("rtl/"):
        return f"bitfold compile {run}"
    if rel.startswith("sim/"):
        return f"bitfold sim {run}"
    if rel.startswith("synth/"):
        return f"bitfold synth {run} --family {Path(rel).stem}"
    if rel.startswith("report"):
        return f"bitfold report {run}"
    if rel.startswith("board/"):
        return f"bitfold deploy {run} --board {Path(rel).parent.name}"
    return f"bitfold train/import --out {run} --force"


def read_result(run_path, rel: str, data: bytes | None = None) -> dict:
    """Read result ``rel`` of the run: valid JSON, its schema, and a digest that matches (else it
    was edited or damaged after bitfold wrote it). Raises :class:`BitfoldError` naming the file."""
    path = Path(run_path) / rel
    kind = RESULT_KINDS.get(rel) or ("synth" if rel.startswith("synth/") else None)
    doc = read_json(path, None, data)
    if isinstance(doc, dict) and doc.get("format") == f"bitfold-{kind}" and doc.get("version") != VERSIONS[kind]:
        raise BitfoldError(f"{path}: version {doc.get('version')!r} of the {kind} format is not supported "
                           f"(expected {VERSIONS[kind]}); run `{refresh_command(run_path, rel)}` to write it again",
                           where=path)
    try:
        from .schema import validate

        validate(doc, kind, path)
    except BitfoldError as e:
        raise BitfoldError(f"{e}; run `{refresh_command(run_path, rel)}` to write it again", where=path) from None
    if doc["provenance"]["digest"] != _digest_of(doc):
        raise BitfoldError(f"{path}: changed after bitfold wrote it (its content does not match its digest); "
                           f"run `{refresh_command(run_path, rel)}` to write it again", where=path)
    return doc


@dataclass(frozen=True)
class Status:
    """Where a result stands: ``state`` is ``fresh``, ``stale``, ``missing`` or ``invalid``."""

    rel: str
    state: str
    reason: str = ""
    refresh: str = ""
    doc: dict | None = None

    @property
    def fresh(self) -> bool:
        return self.state == "fresh"

    def line(self) -> str:
        """One line for a human: what is wrong and what to run."""
        return f"{self.rel}: {self.reason}; run `{self.refresh}`"


def result_status(run_path, rel: str, _seen=None) -> Status:
    """The :class:`Status` of result ``rel`` of a run (see the module docstring)."""
    run_path = Path(run_path)
    seen = {} if _seen is None else _seen
    if rel in seen:
        return seen[rel]
    refresh = refresh_command(run_path, rel)
    path = run_path / rel
    if not path.exists():
        st = Status(rel, "missing", "not computed", refresh)
    else:
        try:
            doc = read_result(run_path, rel)
        except BitfoldError as e:
            st = Status(rel, "invalid", str(e).split(f"{path}: ", 1)[-1].split("; run `")[0], refresh)
        else:
            st = Status(rel, "fresh", "", refresh, doc)
            prov = doc["provenance"]
            for name, want in prov["inputs"].items():
                have = file_digest(run_path / name)
                if have != want:
                    why = "is gone" if have is None else "has changed since"
                    st = Status(rel, "stale", f"computed from a {name} that {why}", refresh, doc)
                    break
                if name in RESULT_KINDS:
                    up = result_status(run_path, name, seen)
                    if not up.fresh:
                        st = Status(rel, "stale", f"computed from {name}, which is {up.state}", refresh, doc)
                        break
            if st.fresh:
                for name, want in prov.get("outputs", {}).items():
                    have = file_digest((run_path / rel).parent / name)
                    if have != want:
                        why = "is missing" if have is None else "was changed after it was written"
                        st = Status(rel, "stale", f"its output {name} {why}", refresh, doc)
                        break
    seen[rel] = st
    return st


def status(run_path) -> dict:
    """``{result: Status}`` for every result a run can hold (missing ones included)."""
    seen = {}
    return {rel: result_status(run_path, rel, seen) for rel in RESULT_KINDS}


DESIGN_RESULTS = ("sim/sim.json", *(f"synth/{f}.json" for f in FAMILIES), "report/report.json",
                  *(f"board/{b}/deploy.json" for b in BOARDS))


def invalidate(run_path, results=DESIGN_RESULTS) -> list:
    """Remove those of ``results`` (default: the ones computed from the compiled design) that are
    stale or damaged, with the files written beside them; returns what was removed. Fresh results
    stay: recompiling to the same Verilog keeps its simulation and synthesis."""
    run_path = Path(run_path)
    removed = []
    for rel, st in status(run_path).items():
        if rel not in results or st.state not in ("stale", "invalid"):
            continue
        folder = (run_path / rel).parent
        if rel == "report/report.json" or rel.startswith("board/"):  # a folder of one result's files:
            aside = folder.with_name(f".{folder.name}.stale.{os.getpid()}")  # renamed aside in one step
            os.rename(folder, aside)
            shutil.rmtree(aside, ignore_errors=True)
            removed.append(f"{folder.relative_to(run_path)}/")
            continue
        extra = [folder / name for name in (st.doc or {}).get("provenance", {}).get("outputs", {})]
        if rel == "sim/sim.json":
            extra.append(folder / "waves.fst")
        for p in [*extra, run_path / rel]:  # the result last: while it exists it is seen as stale
            try:
                os.unlink(p)
            except FileNotFoundError:
                continue
            removed.append(str(p.relative_to(run_path)))
    return removed
