"""``bitfold compile``: a run's IR -> folded hardware IR -> Verilog + manifest under ``RUN/rtl/``."""

import shutil
import tempfile
from pathlib import Path

from hw.analysis import input_beats
from hw.emit import write_design
from hw.errors import BitfoldError
from hw.io import atomic_write_json, atomic_write_text
from hw.ir.graph import Conv
from hw.lower import lower
from hw.passes import auto_folding, hardware_pipeline, run_pipeline, to_hwc
from hw.passes.fold import parallel_folding, read_fold_file, unroll

from .runs import open_run

__all__ = ["compile_run", "compile_graph", "TOP"]

TOP = "bitfold_top"


def compile_graph(graph, fold="auto", target_cycles=None, debug_dir=None, mst=None, fifo="image"):
    """Streamlined IR -> (folding, hardware IR, lowered design).

    ``mst``: None keeps the run's MST schedules (a trained MST model has them), ``"off"`` drops
    them, an integer D computes fresh ones with depth bound D. With automatic folding a scheduled
    convolution is made fully parallel with hard-wired weights, where its schedule saves logic on
    every output position; a scheduled dense layer (one vector per image) stays folded, where full
    unrolling would cost far more area than its schedule saves; a fold file or ``--fold parallel``
    can unroll it.
    """
    if mst == "off":
        graph = graph.replace([n.replace(schedule=None) if hasattr(n, "schedule") else n for n in graph.nodes])
    elif mst is not None:
        from hw.passes.mst import attach_mst

        if not str(mst).isdigit():
            raise BitfoldError(f"--mst must be 'off' or a depth bound (a non-negative integer), not {mst!r}")
        graph = attach_mst(graph, int(mst))
    if fold == "auto":
        if target_cycles is None:
            target_cycles = _fastest(graph)
        folding = auto_folding(to_hwc(graph), int(target_cycles))
        scheduled = [n.name for n in graph.nodes if isinstance(n, Conv) and n.schedule is not None]
        folding = unroll(folding, graph, scheduled)
    elif isinstance(fold, dict):
        folding = fold
    elif fold == "parallel":
        if target_cycles is not None:
            raise BitfoldError("--target-cycles applies to --fold auto only")
        folding = parallel_folding(graph)
    else:
        if target_cycles is not None:
            raise BitfoldError("--target-cycles applies to --fold auto only")
        folding = read_fold_file(fold)
    hwg = run_pipeline(graph, hardware_pipeline(folding), debug_dir=debug_dir)
    return folding, hwg, lower(hwg, fifo=fifo)


def _fastest(graph):
    """The least target every layer can reach: the input rate, or a layer fully parallel."""
    from hw.analysis import conv_cycles, window_steps
    from hw.ir.graph import MaxPool

    floor = input_beats(graph)
    for i, n in enumerate(graph.nodes):
        if isinstance(n, Conv | MaxPool):
            steps, ends = window_steps(graph.in_type(i).shape, n.kernel, n.stride, getattr(n, "pads", (0, 0, 0, 0)))
            floor = max(floor, conv_cycles(steps, ends, 1) if isinstance(n, Conv) else steps)
    return floor


def compile_run(path, fold="auto", target_cycles=None, mst=None) -> dict:
    run = open_run(path)
    graph = run.graph()
    folding, hwg, lowered = compile_graph(graph, fold, target_cycles, debug_dir=run.file("debug"), mst=mst)
    rtl = run.file("rtl")
    tmp = Path(tempfile.mkdtemp(prefix=".rtl.", dir=run.path))
    try:
        man = write_design(hwg, lowered, tmp, TOP)
        atomic_write_text(tmp / "ir.hw.json", hwg.to_json())
        atomic_write_json(tmp / "fold.json", folding)
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
