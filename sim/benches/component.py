"""Generic stream bench: beats into ``i``, beats out of ``o``, with random valid gaps and random
back-pressure from :mod:`sim.stream` (the same schedule the Amaranth tests use)."""

import os

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge

from sim.benches import gaps, ints, rows
from sim.stream import StreamPins, cocotb_get, cocotb_put


@cocotb.test()
async def component(dut):
    stim = np.load(os.environ["BITFOLD_BENCH_IN"])
    beats = ints(stim["beats"])
    n_out = int(stim["n_out"])
    in_gaps, out_gaps = gaps(stim)
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
    np.savez(os.environ["BITFOLD_BENCH_OUT"], beats=rows(out, int(stim["out_bits"])))
