"""Run folders: ``build/<run>/`` holds everything one model's flow produces.

::

    config.json         what made the run (source: train | import), model config, dataset
    model.pt            torch state dict (trained runs only)
    metrics.json        per-epoch training metrics (trained runs only)
    model.qonnx.onnx    the QONNX model every later stage reads
    ir.json             the streamlined integer IR
    check.json          the last `bitfold check` result
    rtl/                `bitfold compile`: <top>.v, manifest.json, fold.json, ir.hw.json (the folded IR)
    sim/                `bitfold sim`: sim.json, cache/ (Verilator builds), waves.fst with --waves
    synth/              `bitfold synth`: <family>.json, cache/ (Yosys and nextpnr runs)
    report/             `bitfold report`: report.json, report.md, report_luts.png

Every result records the hashes of the files it was computed from (:mod:`bitfold.provenance`).
A new run is assembled in a temporary sibling folder and swapped into place when complete, so a
failed or interrupted stage never leaves half a run, and an existing run is replaced only with
``force`` (and only once the new one is complete).
"""

import functools
import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from hw.errors import BitfoldError
from hw.io import replace_dir, temp_dir
from hw.ir.graph import Graph

from .schema import load_ir, read_json

__all__ = ["Run", "Compiled", "new_run", "open_run", "compiled", "QONNX_FILE", "CONFIG_FILE", "MANIFEST"]

CONFIG_FILE = "config.json"
QONNX_FILE = "model.qonnx.onnx"
IR_FILE = "ir.json"
MODEL_FILE = "model.pt"
METRICS_FILE = "metrics.json"
MANIFEST = "rtl/manifest.json"


@dataclass(frozen=True)
class Run:
    """An existing run folder."""

    path: Path

    @functools.cached_property
    def config(self) -> dict:
        return read_json(self.path / CONFIG_FILE, "config")

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def qonnx(self) -> Path:
        return self.path / QONNX_FILE

    @property
    def has_torch(self) -> bool:
        return self.config.get("source") == "train" and (self.path / MODEL_FILE).exists()

    @property
    def dataset(self):
        return self.config.get("dataset")

    def graph(self) -> Graph:
        """The streamlined IR (``ir.json``)."""
        return self.ir()[1]

    def ir(self) -> tuple:
        """``(bytes, graph)`` of ``ir.json``, read once: a caller that records the hash of what it
        read hashes these bytes."""
        path = self.path / IR_FILE
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise BitfoldError(f"{self.path}: no {IR_FILE}; re-create the run with `bitfold train` or `bitfold import`",
                               where=path) from None
        return data, load_ir(path, data)

    def file(self, name) -> Path:
        return self.path / name


def open_run(path) -> Run:
    """Open an existing run folder, with a clear error when it is not one."""
    path = Path(path)
    if not path.is_dir():
        raise BitfoldError(
            f"{path}: no such run folder; create one with `bitfold train --out {path}` or "
            f"`bitfold import FILE.onnx --out {path}`"
        )
    if not (path / CONFIG_FILE).exists():
        raise BitfoldError(f"{path}: not a bitfold run (no {CONFIG_FILE})")
    if not (path / QONNX_FILE).exists():
        raise BitfoldError(f"{path}: the run has no model ({QONNX_FILE} is missing); train or import it again")
    return Run(path)


@contextmanager
def new_run(path, force: bool = False):
    """Yield a temporary folder to fill; on success it becomes ``path``.

    Refuses to touch an existing non-empty ``path`` unless ``force``; with ``force`` the old folder
    is replaced only after the new one is complete.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise BitfoldError(f"{path}: exists and is not a folder", where=path)
    if path.is_dir() and any(path.iterdir()) and not force:
        raise BitfoldError(f"{path}: already holds a run; pass --force to replace it", where=path)
    try:
        tmp = temp_dir(path.parent, f".{path.name}.")
    except OSError as e:
        raise BitfoldError(f"{path}: cannot create the run folder here ({e.strerror or e})", where=path) from None
    try:
        yield tmp
        replace_dir(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


@dataclass(frozen=True)
class Compiled:
    """What ``bitfold compile`` left in ``rtl/``, checked against its manifest: the folded IR,
    the manifest, the Verilog text, and the digests of the files they came from (``inputs``, for
    the provenance of whatever is computed from them)."""

    run: Run
    graph: Graph
    manifest: dict
    verilog: str
    inputs: dict


def compiled(run: Run) -> Compiled:
    """The compiled design of a run, refusing (with the file and the command to run) anything that
    is not exactly what the last `bitfold compile` wrote from the current ``ir.json``."""
    from .provenance import bytes_digest, file_digest, read_result

    again = f"run `bitfold compile {run.path}` again"
    man_path = run.file(MANIFEST)
    if not man_path.exists():
        raise BitfoldError(f"{run.path}: no compiled RTL ({MANIFEST}); run `bitfold compile {run.path}` first",
                           where=man_path)
    man_bytes = man_path.read_bytes()
    man = read_result(run.path, MANIFEST, man_bytes)
    prov = man["provenance"]
    outputs = prov.get("outputs", {})
    for name in (man["verilog"], "ir.hw.json"):
        if name not in outputs:
            raise BitfoldError(f"{man_path}: records no hash of {name}; {again}", where=man_path)
    data = {}
    for name, want in outputs.items():
        path = run.file(f"rtl/{name}")
        try:
            data[name] = path.read_bytes()
        except (FileNotFoundError, IsADirectoryError):
            raise BitfoldError(f"{path}: missing from the compiled design; {again}", where=path) from None
        if bytes_digest(data[name]) != want:
            raise BitfoldError(f"{path}: changed after `bitfold compile` wrote it (its hash differs from the one "
                               f"in {MANIFEST}); {again}", where=path)
    for name, want in prov["inputs"].items():
        if file_digest(run.file(name)) != want:
            raise BitfoldError(f"{run.file('rtl')}: compiled from a {name} that has changed since; {again}",
                               where=run.file(name))
    graph = load_ir(run.file("rtl/ir.hw.json"), data["ir.hw.json"])
    try:
        verilog = data[man["verilog"]].decode()
    except UnicodeDecodeError:
        raise BitfoldError(f"{run.file('rtl/' + man['verilog'])}: not text; {again}") from None
    inputs = {MANIFEST: bytes_digest(man_bytes), f"rtl/{man['verilog']}": outputs[man["verilog"]],
              "rtl/ir.hw.json": outputs["ir.hw.json"]}
    return Compiled(run, graph, man, verilog, inputs)
