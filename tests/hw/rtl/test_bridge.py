"""The UART link of a board build (hw/rtl/uart.py, hw/rtl/bridge.py) under the Amaranth
simulator: random bytes at random divisors through the transmitter and the receiver, framing
errors dropped, and the bridge turning random image frames (with junk between them) into exactly
the AXI4-Stream beats they hold and random result words into exactly their result frames."""

import numpy as np
import pytest
from amaranth.sim import Simulator
from hypothesis import given, settings
from hypothesis import strategies as st

from hw.plan.board import IMAGE, RESULT, BridgePlan, UartPlan
from hw.rtl.bridge import UartBridge
from hw.rtl.uart import UartRx, UartTx

pytestmark = pytest.mark.amaranth_sim


async def _wait(ctx, n):
    """``n`` clock ticks (not ``tick().repeat(n)``: a generator left open when the simulation
    ends warns)."""
    for _ in range(n):
        await ctx.tick()


def _line_bits(byte):
    return [0, *((byte >> k) & 1 for k in range(8)), 1]


async def _send(ctx, line, data, div, stop=1):
    """Drive ``line`` with ``data`` as 8N1 at ``div`` cycles a bit (``stop``: the stop bit's level)."""
    for byte in data:
        bits = _line_bits(byte)
        bits[-1] = stop
        for b in bits:
            ctx.set(line, b)
            await _wait(ctx, div)
        ctx.set(line, 1)


async def _receive(ctx, line, div, out, count):
    """Decode ``count`` bytes from ``line`` into ``out``, sampling each bit in its middle."""
    while len(out) < count:
        while ctx.get(line):
            await ctx.tick()
        await _wait(ctx, div // 2)
        assert ctx.get(line) == 0, "a glitch where a start bit should be"
        byte = 0
        for k in range(8):
            await _wait(ctx, div)
            byte |= ctx.get(line) << k
        await _wait(ctx, div)
        assert ctx.get(line) == 1, "the stop bit is low"
        out.append(byte)


@settings(max_examples=8, deadline=None)
@given(div=st.integers(4, 11), data=st.lists(st.integers(0, 255), min_size=1, max_size=12),
       gap=st.integers(0, 30))
def test_uart_tx_to_rx_carries_every_byte(div, data, gap):
    """The transmitter's line into the receiver: every byte arrives once, in order, whatever the
    divisor and the idle time between bytes."""
    tx, rx = UartTx(UartPlan(div)), UartRx(UartPlan(div))
    from amaranth import Module

    m = Module()
    m.submodules.tx, m.submodules.rx = tx, rx
    m.d.comb += rx.rx.eq(tx.tx)
    got, on_line = [], []
    sim = Simulator(m)
    sim.add_clock(1e-6)

    async def feed(ctx):
        for byte in data:
            ctx.set(tx.i.payload, byte)
            ctx.set(tx.i.valid, 1)
            await ctx.tick().until(tx.i.ready)
            ctx.set(tx.i.valid, 0)
            await _wait(ctx, gap + 1)

    async def collect(ctx):
        while len(got) < len(data):
            await ctx.tick()
            if ctx.get(rx.o.valid):
                got.append(ctx.get(rx.o.payload))

    async def line(ctx):
        await _receive(ctx, tx.tx, div, on_line, len(data))

    sim.add_testbench(feed)
    sim.add_testbench(collect)
    sim.add_testbench(line)
    sim.run_until((len(data) * (10 * div + gap + 4) + 50) * 1e-6)
    assert got == data and on_line == data


def test_uart_rx_drops_a_byte_whose_stop_bit_is_low():
    div = 5
    rx = UartRx(UartPlan(div))
    got = []
    sim = Simulator(rx)
    sim.add_clock(1e-6)

    async def drive(ctx):
        await _send(ctx, rx.rx, [0x3C], div)
        await _send(ctx, rx.rx, [0xA5], div, stop=0)  # a framing error
        await _wait(ctx, 3 * div)
        await _send(ctx, rx.rx, [0x81], div)
        await _wait(ctx, 3 * div)

    async def collect(ctx):
        while True:
            await ctx.tick()
            if ctx.get(rx.o.valid):
                got.append(ctx.get(rx.o.payload))

    sim.add_testbench(drive)
    sim.add_testbench(collect, background=True)
    sim.run()
    assert got == [0x3C, 0x81]


@settings(max_examples=15, deadline=None)
@given(beats=st.integers(1, 4), s_bytes=st.integers(1, 3), m_bytes=st.integers(1, 4), div=st.integers(4, 6),
       images=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_bridge_turns_frames_into_beats_and_results_into_frames(beats, s_bytes, m_bytes, div, images, seed):
    """Image frames on ``rx``, with junk bytes (never the IMAGE header) before and between them,
    come out as exactly their beats (least significant byte first, ``tlast`` on each image's last)
    under random ``tready`` stalls shorter than a byte; every result word the core offers (at
    random times) leaves on ``tx`` as RESULT and its bytes, least significant first."""
    rng = np.random.default_rng(seed)
    plan = BridgePlan(beats, s_bytes, m_bytes, UartPlan(div))
    dut = UartBridge(plan)
    want_beats = [[int.from_bytes(rng.integers(0, 256, s_bytes).astype(np.uint8).tobytes(), "little")
                   for _ in range(beats)] for _ in range(images)]
    stream = []
    for img in want_beats:
        junk = [int(b) for b in rng.integers(0, 256, int(rng.integers(0, 3))) if b != IMAGE]
        stream += junk + [IMAGE] + [byte for beat in img for byte in beat.to_bytes(s_bytes, "little")]
    words = [int.from_bytes(rng.integers(0, 256, m_bytes).astype(np.uint8).tobytes(), "little")
             for _ in range(int(rng.integers(1, 4)))]
    got_beats, tx_bytes = [], []
    stalls = rng.integers(0, 10 * div - 2, 4 * beats * images).tolist()

    sim = Simulator(dut)
    sim.add_clock(1e-6)

    async def host(ctx):
        await _send(ctx, dut.rx, stream, div)

    async def core_in(ctx):  # tready low for a random stall, then high for one cycle
        for k in range(10**9):
            ctx.set(dut.s_axis_tready, 0)
            await _wait(ctx, stalls[k % len(stalls)] + 1)
            ctx.set(dut.s_axis_tready, 1)
            await ctx.tick()

    async def sample_in(ctx):  # a beat moves on every edge where tvalid and tready are both high
        while len(got_beats) < images * beats:
            _, _, valid, ready, data, last = await ctx.tick().sample(
                dut.s_axis_tvalid, dut.s_axis_tready, dut.s_axis_tdata, dut.s_axis_tlast)
            if valid and ready:
                got_beats.append((data, last))

    async def core_out(ctx):
        for w in words:
            await _wait(ctx, int(rng.integers(0, 40)))
            ctx.set(dut.m_axis_tdata, w)
            ctx.set(dut.m_axis_tvalid, 1)
            ctx.set(dut.m_axis_tlast, 1)
            await ctx.tick().until(dut.m_axis_tready)
            ctx.set(dut.m_axis_tvalid, 0)

    async def line(ctx):
        await _receive(ctx, dut.tx, div, tx_bytes, len(words) * (1 + m_bytes))

    sim.add_testbench(host)
    sim.add_testbench(core_in, background=True)
    sim.add_testbench(sample_in)
    sim.add_testbench(core_out)
    sim.add_testbench(line)
    bound = (len(stream) + len(words) * (2 + m_bytes)) * 10 * div + 200 * len(words) + sum(stalls) + 100
    sim.run_until(bound * 1e-6)  # a bound, in case the bridge loses a beat or a byte
    flat = [b for img in want_beats for b in img]
    lasts = [int(k == beats - 1) for _ in want_beats for k in range(beats)]
    assert got_beats == list(zip(flat, lasts, strict=True))
    assert tx_bytes == [b for w in words for b in [RESULT, *w.to_bytes(m_bytes, "little")]]
