"""Generic stream bench: beats into ``i``, beats out of ``o``, with random valid gaps and random
back-pressure from :mod:`sim.stream` (the same schedule the Amaranth tests use)."""

import os

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge

from sim.stream import Gaps, StreamPins, cocotb_get, cocotb_put


def _ints(rows):
    return [int.from_bytes(r.tobytes(), "little") for r in rows]


@cocotb.test()
async def component(dut):
    stim = np.load(os.environ["BITFOLD_BENCH_IN"])
    beats = _ints(stim["beats"])
    n_out = int(stim["n_out"])
    in_gaps = Gaps(float(stim["in_gap"]), int(stim["seed"]))
    out_gaps = Gaps(float(stim["out_gap"]), int(stim["seed"]) + 1)
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    src, snk = StreamPins(dut, "i"), StreamPins(dut, "o")
    dut.rst.value = 1
    src.valid.value = 0
    snk.ready.value = 0
    await ClockCycles(dut.clk, 3)
    dut.rst.value = 0
    await RisingEdge(dut.clk)
    cocotb.start_soon(cocotb_put(dut.clk, src, beats, in_gaps))
    out = await cocotb_get(dut.clk, snk, n_out, out_gaps)
    nbytes = (int(stim["out_bits"]) + 7) // 8
    np.savez(os.environ["BITFOLD_BENCH_OUT"],
             beats=np.array([np.frombuffer(b.to_bytes(nbytes, "little"), dtype=np.uint8) for b in out]))
