"""Open-source synthesis: Yosys for LUT/FF/BRAM counts (xc7, ice40, ecp5), nextpnr for Fmax.

:func:`synth_design` synthesizes a planned design whole and layer by layer, out of context. The
regression set, its synthesis and the estimator's calibration live here too (they need RTL and Yosys).
"""

from amaranth.back import verilog as _verilog
from tqdm import tqdm

from ..families import FAMILIES, family
from ..rtl.build import dataflow
from ..verilog import fast_memory_init
from .nextpnr import place_and_route
from .yosys import synthesize, yosys_version

__all__ = ["synth_design", "synthesize", "place_and_route", "yosys_version", "FAMILIES", "family", "layer_verilog"]

COUNTS = ("lut", "lut_sites", "ff", "carry", "mux", "lutram", "srl", "bram", "dsp")  # lut_sites: xc7 only


def layer_verilog(layer) -> tuple:
    """``(top name, Verilog)`` of one layer's stages (a :class:`~hw.plan.LayerPlan`) alone, for
    per-layer synthesis."""
    name = "layer_" + "".join(ch if ch.isalnum() else "_" for ch in layer.name).lower()
    with fast_memory_init():
        return name, _verilog.convert(dataflow(layer.stages), name=name, emit_src=False)


def synth_design(plan, verilog: str, top: str, family_name: str, cache_dir, per_layer: bool = True,
                 pnr: bool = False, device: str | None = None, progress: bool = True,
                 freq_mhz: float | None = None) -> dict:
    """Synthesize the whole design (``verilog``, module ``top``) and, with ``per_layer``, each layer
    on its own; with ``pnr`` place and route the whole design for Fmax and utilization (aiming at
    ``freq_mhz`` with rip-up when given, see :func:`~hw.synth.nextpnr.place_and_route`)."""
    family(family_name)
    jobs = [("total", top, verilog)]
    if per_layer:
        jobs += [(layer.name, *layer_verilog(layer)) for layer in plan.layers]
    out = {"family": family_name, "yosys": yosys_version(), "layers": {}}
    bar = tqdm(jobs, desc=f"yosys {family_name}", unit="design", disable=not progress)
    for name, mod, text in bar:
        bar.set_postfix_str(name)
        r = synthesize(text, mod, family_name, cache_dir, netlist=pnr and name == "total")
        if name == "total":
            out["total"] = r
        else:
            out["layers"][name] = r
    if pnr:
        if progress:
            print(f"nextpnr: placing and routing on {family_name} {device or family(family_name).default_device}...",
                  flush=True)
        out["pnr"] = place_and_route(out["total"]["netlist"], family_name, device, cache_dir, freq_mhz)
    return out
