"""Synthesize the regression set (:mod:`hw.synth.regression`) and collect the counts."""

from tqdm import tqdm

from .regression import DESIGNS, design_verilog
from .yosys import synthesize

__all__ = ["collect"]


def collect(family_name, cache_dir, names=None, progress=True) -> list:
    """``[{"name", "kind", "family", "lut", "ff", ..., "seconds", "yosys"}]`` for the regression set."""
    names = list(DESIGNS) if names is None else list(names)
    rows = []
    bar = tqdm(names, desc=f"regression set on {family_name}", unit="design", disable=not progress)
    for name in bar:
        bar.set_postfix_str(name)
        kind, _, top, text = design_verilog(name, family_name)
        r = synthesize(text, top, family_name, cache_dir)
        rows.append({"name": name, "kind": kind, "family": family_name,
                     **{k: r[k] for k in ("lut", "ff", "carry", "mux", "lutram", "srl", "bram", "dsp", "seconds",
                                          "yosys")}})
    return rows
