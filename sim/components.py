"""Run any stream component under cocotb + Verilator: the Python side of ``benches/component.py``
(and of ``benches/axis.py`` for AXI4-Stream tops)."""

import numpy as np
from amaranth.back import verilog

from hw.io import atomic_write_text

from . import runner
from .benches import ints, rows

__all__ = ["run_component", "run_axis"]


def _run_bench(verilog_text, name, bench, workdir, **stimulus):
    """Build ``verilog_text`` (module ``name``) with Verilator and run ``sim.benches.<bench>`` on
    ``stimulus``; returns what the bench wrote."""
    src = workdir / f"{name}.v"
    atomic_write_text(src, verilog_text)
    # the bench's Python drives every clock edge, at far more than the model's evaluation costs:
    # built for a simulation of its beats (a cycle each at least), not for speed
    build_dir = runner.build(src, name, workdir / "cache", cycles=len(stimulus["beats"]) + stimulus["n_out"])
    stim, out = workdir / "stim.npz", workdir / "out.npz"
    np.savez(stim, **stimulus)
    out.unlink(missing_ok=True)
    runner.run(build_dir, name, bench, workdir / "test", {"BITFOLD_BENCH_IN": stim, "BITFOLD_BENCH_OUT": out})
    return np.load(out)


def run_component(component, beats, n_out, workdir, in_gap=0.3, out_gap=0.3, seed=0, name="dut", verilog_text=None):
    """Build ``component`` (or the given Verilog) with Verilator, stream ``beats`` through it with
    random gaps and back-pressure, return the ``n_out`` output beats as ints."""
    workdir = workdir.resolve() if hasattr(workdir, "resolve") else workdir
    in_bits = len(component.i.payload) if component is not None else None
    out_bits = len(component.o.payload) if component is not None else None
    text = verilog_text or verilog.convert(component, name=name, emit_src=False)
    res = _run_bench(text, name, "component", workdir, beats=rows(beats, in_bits), n_out=n_out, in_gap=in_gap,
                     out_gap=out_gap, seed=seed, out_bits=out_bits)
    return ints(res["beats"])


def run_axis(verilog_text, name, beats, lasts, n_out, in_bits, out_bits, workdir, in_gap=0.3, out_gap=0.3, seed=0):
    """Build an AXI4-Stream top (module ``name``) with Verilator and stream ``beats`` (with their
    ``tlast`` bits ``lasts``) through it under random ``tvalid`` gaps and ``tready`` back-pressure;
    returns the ``n_out`` output beats, their ``tlast`` bits, and whether another beat was offered
    200 cycles after them."""
    res = _run_bench(verilog_text, name, "axis", workdir, beats=rows(beats, in_bits),
                     lasts=np.array(lasts, dtype=np.uint8), n_out=n_out, in_gap=in_gap, out_gap=out_gap, seed=seed,
                     out_bits=out_bits)
    return ints(res["beats"]), res["lasts"].tolist(), bool(res["extra"])
