"""Whole-network bench: images through :class:`sim.harness.NetworkHarness` under Verilator.

Phases: (1) one image alone, pipeline empty, no stalls: latency; (2) a burst back to back, no
stalls: cycles per image in steady state; (3) every image with random input gaps and output
back-pressure (``stress``). Every result of every phase is returned for comparison.
"""

import os

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, RisingEdge

from sim.benches import ints


class Collector:
    """Records ``(result beat, cycle)`` each time the harness's result counter changes."""

    def __init__(self, dut):
        self.dut = dut
        self.results = []

    async def run(self):
        while True:
            await self.dut.res_count.value_change
            self.results.append((int(self.dut.res_data.value), int(self.dut.res_cycle.value)))

    async def wait_for(self, n):
        while len(self.results) < n:
            await self.dut.res_count.value_change


async def push(dut, images):
    """Hand over images one per handshake. Inputs change only at falling clock edges, so the rising
    edge that samples them is never the one being processed when they are written."""
    for img in images:
        await FallingEdge(dut.clk)
        if not int(dut.img__ready.value):
            await RisingEdge(dut.img__ready)  # the queue has room again (wakes once per image)
            await FallingEdge(dut.clk)
        dut.img__payload.value = img
        dut.img__valid.value = 1
        await RisingEdge(dut.clk)  # ready was high all cycle: taken at this edge
        dut.img__valid.value = 0


@cocotb.test()
async def network(dut):
    stim = np.load(os.environ["BITFOLD_BENCH_IN"])
    images = ints(stim["images"])
    burst = int(stim["burst"])
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.img__valid.value = 0
    dut.stress.value = 0
    await ClockCycles(dut.clk, 20)  # the harness resets itself for 16 cycles
    col = Collector(dut)
    cocotb.start_soon(col.run())

    # (1) latency: one image through an empty pipeline
    await push(dut, images[:1])
    await col.wait_for(1)
    latency = col.results[0][1] - int(dut.start_cycle.value)
    # (2) steady state
    await push(dut, images[:burst])
    await col.wait_for(1 + burst)
    # (3) stress: everything, with random gaps and back-pressure
    dut.stress.value = 1
    await push(dut, images)
    await col.wait_for(1 + burst + len(images))
    beats = [r[0] for r in col.results]
    nbytes = (int(stim["out_bits"]) + 7) // 8
    out = np.array([np.frombuffer(b.to_bytes(nbytes, "little"), dtype=np.uint8) for b in beats])
    np.savez(os.environ["BITFOLD_BENCH_OUT"], beats=out, cycles=np.array([r[1] for r in col.results]),
             latency=latency, burst=burst)
