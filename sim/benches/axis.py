"""AXI4-Stream bench: beats with their ``tlast`` into ``s_axis``, beats and ``tlast`` out of
``m_axis``, with random ``tvalid`` gaps and ``tready`` back-pressure (:mod:`sim.stream`)."""

import os

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge

from sim.benches import gaps, ints, rows
from sim.stream import AxisPins, cocotb_get, cocotb_put


@cocotb.test()
async def axis(dut):
    stim = np.load(os.environ["BITFOLD_BENCH_IN"])
    beats, lasts = ints(stim["beats"]), stim["lasts"].tolist()
    n_out = int(stim["n_out"])
    in_gaps, out_gaps = gaps(stim)
    cocotb.start_soon(Clock(dut.ap_clk, 10, unit="ns").start())
    src, snk = AxisPins(dut, "s_axis"), AxisPins(dut, "m_axis")
    dut.ap_rst_n.value = 0
    src.valid.value = 0
    src.last.value = 0
    snk.ready.value = 0
    await ClockCycles(dut.ap_clk, 3)
    dut.ap_rst_n.value = 1
    await RisingEdge(dut.ap_clk)
    cocotb.start_soon(cocotb_put(dut.ap_clk, src, beats, in_gaps, lasts=lasts))
    out_lasts = []
    out = await cocotb_get(dut.ap_clk, snk, n_out, out_gaps, lasts=out_lasts)
    await ClockCycles(dut.ap_clk, 200)  # nothing more may leave
    extra = int(snk.valid.value)
    np.savez(os.environ["BITFOLD_BENCH_OUT"], lasts=np.array(out_lasts), extra=extra,
             beats=rows(out, int(stim["out_bits"])))
