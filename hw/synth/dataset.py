"""Synthesize the regression set (:mod:`hw.synth.regression`) and collect the counts."""

import os
from concurrent.futures import ThreadPoolExecutor

from tqdm import tqdm

from .regression import DESIGNS, design_verilog
from .yosys import synthesize

__all__ = ["collect"]

_COUNTS = ("lut", "ff", "carry", "mux", "lutram", "srl", "bram", "dsp", "seconds", "yosys")


def collect(family_name, cache_dir, names=None, progress=True, jobs=1) -> list:
    """``[{"name", "kind", "family", "lut", "ff", ..., "seconds", "yosys"}]`` for the regression set,
    in the order of ``names``. ``jobs`` Yosys processes run at once (``0``: one per core); each design's
    result is cached by its Verilog text, so an interrupted collection resumes where it stopped."""
    names = list(DESIGNS) if names is None else list(names)
    jobs = jobs or os.cpu_count() or 1

    def one(name):
        kind, _, top, text = design_verilog(name, family_name)
        r = synthesize(text, top, family_name, cache_dir)
        return {"name": name, "kind": kind, "family": family_name, **{k: r[k] for k in _COUNTS}}

    bar = tqdm(total=len(names), desc=f"regression set on {family_name}", unit="design", disable=not progress)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(one, name) for name in names]
        rows = []
        for name, future in zip(names, futures, strict=True):
            rows.append(future.result())
            bar.set_postfix_str(name)
            bar.update()
    bar.close()
    return rows
