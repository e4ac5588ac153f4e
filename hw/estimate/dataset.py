"""Synthesize the regression set (:mod:`hw.estimate.regression`) and collect the counts."""

from amaranth.back import verilog as _verilog
from tqdm import tqdm

from ..synth import synthesize
from .regression import DESIGNS, build, top_of

__all__ = ["collect", "design_verilog"]


def design_verilog(name):
    kind, stages, _ = build(name)
    top = "reg_" + "".join(ch if ch.isalnum() else "_" for ch in name)
    return kind, stages, top, _verilog.convert(top_of(stages), name=top, emit_src=False)


def collect(family_name, cache_dir, names=None, progress=True) -> list:
    """``[{"name", "kind", "family", "lut", "ff", ..., "seconds", "yosys"}]`` for the regression set."""
    names = list(DESIGNS) if names is None else list(names)
    rows = []
    bar = tqdm(names, desc=f"regression set on {family_name}", unit="design", disable=not progress)
    for name in bar:
        bar.set_postfix_str(name)
        kind, _, top, text = design_verilog(name)
        r = synthesize(text, top, family_name, cache_dir)
        rows.append({"name": name, "kind": kind, "family": family_name,
                     **{k: r[k] for k in ("lut", "ff", "carry", "mux", "lutram", "srl", "bram", "dsp", "seconds",
                                          "yosys")}})
    return rows
