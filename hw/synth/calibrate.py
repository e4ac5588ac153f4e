"""Calibration: synthesize what the estimator is fitted to, then fit it (:mod:`hw.estimate.fit`).

Needs both RTL and Yosys, so it lives beside synthesis; the estimator itself reads only the
resulting ``calibration.json``.
"""

from ..estimate.fit import OR_CHANNELS, OR_PIXELS, calibration_doc, design_features
from ..plan import OrPoolPlan, Stage
from .dataset import collect
from .regression import build
from .yosys import synthesize, yosys_version

__all__ = ["measure_tables", "calibrate"]


def measure_tables(family_name, cache_dir) -> dict:
    """Synthesize what no closed formula follows: one channel's OR over n pixels (per channel of
    an ``OrReduce(n, 32)``), for :func:`hw.estimate.components.or_luts`."""
    from amaranth.back import verilog

    from ..rtl.build import dataflow

    table = {}
    for n in OR_PIXELS:
        top = f"or_table_{n}"
        text = verilog.convert(dataflow([Stage("dut", OrPoolPlan(n, OR_CHANNELS))]), name=top, emit_src=False)
        table[str(n)] = round(synthesize(text, top, family_name, cache_dir)["lut"] / OR_CHANNELS, 4)
    return {"or_luts": {family_name: table}}


def calibrate(families, cache_dir, progress=True) -> tuple:
    """Synthesize the regression set on ``families`` and fit the estimator: ``(calibration
    document, {family: synthesis rows})``. Writing them is the caller's choice."""
    rows, feats, tables = {}, {}, {"or_luts": {}}
    for fam in families:
        tables["or_luts"].update(measure_tables(fam, cache_dir)["or_luts"])
        rows[fam] = collect(fam, cache_dir, progress=progress)
        feats[fam] = {r["name"]: design_features([s.unit for s in build(r["name"], fam)[1]], fam, tables)
                      for r in rows[fam]}
    return calibration_doc(rows, feats, yosys_version(), tables), rows
