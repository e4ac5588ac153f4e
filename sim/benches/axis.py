"""AXI4-Stream bench: beats with their ``tlast`` into ``s_axis``, beats and ``tlast`` out of
``m_axis``, with random ``tvalid`` gaps and ``tready`` back-pressure (:mod:`sim.stream`)."""

import os

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge

from sim.stream import AxisPins, Gaps, cocotb_get, cocotb_put


def _ints(rows):
    return [int.from_bytes(r.tobytes(), "little") for r in rows]


@cocotb.test()
async def axis(dut):
    stim = np.load(os.environ["BITFOLD_BENCH_IN"])
    beats, lasts = _ints(stim["beats"]), stim["lasts"].tolist()
    n_out = int(stim["n_out"])
    in_gaps = Gaps(float(stim["in_gap"]), int(stim["seed"]))
    out_gaps = Gaps(float(stim["out_gap"]), int(stim["seed"]) + 1)
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
    nbytes = (int(stim["out_bits"]) + 7) // 8
    np.savez(os.environ["BITFOLD_BENCH_OUT"], lasts=np.array(out_lasts), extra=extra,
             beats=np.array([np.frombuffer(b.to_bytes(nbytes, "little"), dtype=np.uint8) for b in out]))
