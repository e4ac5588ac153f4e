"""Board bench: the board top (:class:`hw.rtl.board_top.BoardSimTop`: UART bridge, power-on reset
and the compiled core's Verilog) under Verilator, driven by the host driver itself.

:func:`bitfold.board.exchange`, the code that talks to a real board through pyserial, runs in a
cocotb bridge thread against :class:`SimSerial`: its writes become 8N1 bits on ``rx``, its reads
wait (simulated time passing) for the bytes decoded from ``tx``.
"""

import os
from collections import deque

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.task import bridge, resume
from cocotb.triggers import ClockCycles, FallingEdge

from bitfold.board import exchange
from hw.plan.board import BridgePlan, UartPlan


class SimSerial:
    """``serial.Serial`` as :func:`exchange` uses it, on the UART lines of the simulated board."""

    def __init__(self, dut, divisor, timeout_cycles):
        self.dut, self.div, self.timeout_cycles = dut, divisor, timeout_cycles
        self.outgoing, self.incoming = deque(), deque()

    def write(self, data):  # (from the bridge thread, while the simulation waits for it)
        self.outgoing.extend(data)

    def read(self, n):
        return _wait_bytes(self, n)

    def close(self):
        pass

    async def drive(self):
        """Bytes written by the host onto ``rx``: start bit, 8 data bits LSB first, stop bit."""
        self.dut.rx.value = 1
        while True:
            if not self.outgoing:
                await ClockCycles(self.dut.clk, self.div)
                continue
            byte = self.outgoing.popleft()
            for bit in [0, *((byte >> k) & 1 for k in range(8)), 1]:
                self.dut.rx.value = bit
                await ClockCycles(self.dut.clk, self.div)

    async def watch(self):
        """Bytes on ``tx``, each bit sampled in its middle."""
        while True:
            if int(self.dut.tx.value):
                await FallingEdge(self.dut.tx)  # a start bit
            await ClockCycles(self.dut.clk, self.div // 2)
            byte = 0
            for k in range(8):
                await ClockCycles(self.dut.clk, self.div)
                byte |= int(self.dut.tx.value) << k
            await ClockCycles(self.dut.clk, self.div)
            self.incoming.append(byte)


@resume
async def _wait_bytes(port, n):
    """Up to ``n`` bytes from the board: fewer when ``timeout_cycles`` pass without one (as a serial
    port's read returns short at its timeout)."""
    idle = 0
    while len(port.incoming) < n and idle < port.timeout_cycles:
        before = len(port.incoming)
        await ClockCycles(port.dut.clk, 64)
        idle = 0 if len(port.incoming) > before else idle + 64
    return bytes(port.incoming.popleft() for _ in range(min(n, len(port.incoming))))


@cocotb.test()
async def board(dut):
    stim = np.load(os.environ["BITFOLD_BENCH_IN"])
    plan = BridgePlan(int(stim["beats"]), int(stim["s_bytes"]), int(stim["m_bytes"]), UartPlan(int(stim["divisor"])))
    frames = [r.tobytes() for r in stim["frames"]]
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst.value = 1
    dut.rx.value = 1
    await ClockCycles(dut.clk, 2)
    dut.rst.value = 0
    port = SimSerial(dut, plan.uart.divisor, int(stim["timeout_cycles"]))
    cocotb.start_soon(port.drive())
    cocotb.start_soon(port.watch())
    start = cocotb.simtime.get_sim_time("ns")
    try:
        words = await bridge(exchange)(port, frames, plan)
        error = ""
    except Exception as e:  # a host-side error (no answer, a wrong header): the caller reports it
        words, error = [], str(e)
    cycles = int((cocotb.simtime.get_sim_time("ns") - start) // 10)
    np.savez(os.environ["BITFOLD_BENCH_OUT"], words=np.array([np.frombuffer(w.to_bytes(plan.m_bytes, "little"),
                                                                           dtype=np.uint8) for w in words]
                                                                          ).reshape(-1, plan.m_bytes),
             cycles=cycles, error=error)
