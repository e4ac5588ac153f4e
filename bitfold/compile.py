"""``bitfold compile``: a run's IR -> folded hardware IR, plan, Verilog + manifest under ``RUN/rtl/``.

The compiling itself is :func:`hw.compile.compile_graph`; this module turns the command's strings
into its typed choices and writes the run's ``rtl/`` folder.
"""

import shutil
import tempfile
from pathlib import Path

from hw.compile import FoldAuto, FoldExplicit, FoldParallel, MstDepth, MstKeep, MstOff, compile_graph
from hw.emit import write_design
from hw.errors import BitfoldError
from hw.io import atomic_write_json, atomic_write_text
from hw.passes.fold import read_fold_file

from .runs import open_run

__all__ = ["compile_run", "fold_choice", "mst_choice", "TOP"]

TOP = "bitfold_top"


def fold_choice(fold="auto", target_cycles=None):
    """``--fold`` and ``--target-cycles`` -> :class:`FoldAuto`, :class:`FoldParallel` or
    :class:`FoldExplicit` (a dict, or a fold file's path)."""
    if fold == "auto":
        return FoldAuto(target_cycles)
    if target_cycles is not None:
        raise BitfoldError("--target-cycles applies to --fold auto only")
    if fold == "parallel":
        return FoldParallel()
    if isinstance(fold, dict):
        return FoldExplicit(fold)
    return FoldExplicit(read_fold_file(fold))


def mst_choice(mst=None):
    """``--mst`` -> keep the run's schedules (None), ``off``, or a depth bound D."""
    if mst is None:
        return MstKeep()
    if mst == "off":
        return MstOff()
    if isinstance(mst, int) or str(mst).isdigit():
        return MstDepth(int(mst))
    raise BitfoldError(f"--mst must be 'off' or a depth bound (a non-negative integer), not {mst!r}")


def compile_run(path, fold="auto", target_cycles=None, mst=None) -> dict:
    run = open_run(path)
    graph = run.graph()
    compiled = compile_graph(graph, fold_choice(fold, target_cycles), mst_choice(mst), debug_dir=run.file("debug"))
    rtl = run.file("rtl")
    tmp = Path(tempfile.mkdtemp(prefix=".rtl.", dir=run.path))
    try:
        man = write_design(compiled.plan, tmp, TOP)
        atomic_write_text(tmp / "ir.hw.json", compiled.graph.to_json())
        atomic_write_json(tmp / "fold.json", compiled.folding)
        if rtl.exists():
            shutil.rmtree(rtl)
        tmp.rename(rtl)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return {"run": str(run.path), "rtl": str(rtl / man["verilog"]), "top": TOP,
            "cycles_per_image": man["cycles_per_image"], "latency_cycles": man["latency_cycles"],
            "bottleneck": man["bottleneck"], "verilog_bytes": man["verilog_bytes"],
            "layers": [{k: layer.get(k) for k in ("name", "op", "pe", "simd", "weight_mode", "cycles_per_image", "mst",
                                                  "note")} for layer in man["layers"]]}
