"""Run folders: ``build/<run>/`` holds everything one model's flow produces.

::

    config.json         what made the run (source: train | import), model config, dataset
    model.pt            torch state dict (trained runs only)
    metrics.json        per-epoch training metrics (trained runs only)
    model.qonnx.onnx    the QONNX model every later stage reads
    ir.json             the streamlined integer IR
    check.json          the last `bitfold check` result

A new run is assembled in a temporary sibling folder and renamed into place when complete, so a
failed or interrupted stage never leaves half a run, and an existing run is replaced only with
``force`` (and only once the new one is complete).
"""

import json
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from hw.errors import BitfoldError
from hw.ir.graph import Graph

__all__ = ["Run", "new_run", "open_run", "QONNX_FILE", "CONFIG_FILE"]

CONFIG_FILE = "config.json"
QONNX_FILE = "model.qonnx.onnx"
IR_FILE = "ir.json"
MODEL_FILE = "model.pt"
METRICS_FILE = "metrics.json"


@dataclass(frozen=True)
class Run:
    """An existing run folder."""

    path: Path

    @property
    def config(self) -> dict:
        return _read_json(self.path / CONFIG_FILE)

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
        path = self.path / IR_FILE
        if not path.exists():
            raise BitfoldError(f"{self.path}: no {IR_FILE}; re-create the run with `bitfold train` or `bitfold import`")
        return Graph.from_json(path.read_text())

    def file(self, name) -> Path:
        return self.path / name


def _read_json(path: Path):
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise BitfoldError(f"{path}: missing") from None
    except json.JSONDecodeError as e:
        raise BitfoldError(f"{path}: not valid JSON ({e})") from None


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
        raise BitfoldError(f"{path}: exists and is not a folder")
    if path.is_dir() and any(path.iterdir()) and not force:
        raise BitfoldError(f"{path}: already holds a run; pass --force to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if path.exists():
        old = path.parent / f".{path.name}.old.{tmp.name}"
        path.rename(old)
    tmp.rename(path)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
