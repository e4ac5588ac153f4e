"""Stream drivers and monitors shared by every test: the Amaranth simulator and cocotb alike.

The random schedule (:class:`Gaps`: when a source holds ``valid`` low, when a sink holds ``ready``
low) is one piece of code; :func:`amaranth_put` / :func:`amaranth_get` and :func:`cocotb_put` /
:func:`cocotb_get` apply it to each simulator's signals. A beat moves at a rising edge where
``valid & ready``, sampled at that edge.
"""

import random

__all__ = ["Gaps", "amaranth_put", "amaranth_get", "cocotb_put", "cocotb_get", "StreamPins", "AxisPins"]


class Gaps:
    """A seeded random schedule: :meth:`skip` is True with probability ``p`` each cycle."""

    def __init__(self, p: float = 0.0, seed: int = 0):
        if not 0.0 <= p < 1.0:
            raise ValueError(f"gap probability must be in [0, 1), not {p!r}")
        self.p = p
        self.rng = random.Random(seed)

    def skip(self) -> bool:
        return self.p > 0 and self.rng.random() < self.p


# -- Amaranth simulator ---------------------------------------------------------------------------

async def amaranth_put(ctx, stream, beats, gaps: Gaps | None = None):
    """Drive ``beats`` into ``stream`` (a component's ``i``), idling randomly between beats."""
    for beat in beats:
        while gaps is not None and gaps.skip():
            await ctx.tick()
        ctx.set(stream.payload, beat)
        ctx.set(stream.valid, 1)
        await ctx.tick().until(stream.ready)
        ctx.set(stream.valid, 0)


async def amaranth_get(ctx, stream, count: int, gaps: Gaps | None = None, cycles=None) -> list:
    """Collect ``count`` beats from ``stream`` (a component's ``o``) with random back-pressure.

    If ``cycles`` is a list, the cycle number of each received beat is appended to it.
    """
    out, cycle = [], 0
    while len(out) < count:
        ready = not (gaps is not None and gaps.skip())
        ctx.set(stream.ready, int(ready))
        _, _, payload, valid = await ctx.tick().sample(stream.payload, stream.valid)
        cycle += 1
        if ready and valid:
            out.append(int(payload))
            if cycles is not None:
                cycles.append(cycle)
    ctx.set(stream.ready, 0)
    return out


# -- cocotb ------------------------------------------------------------------------------------

class StreamPins:
    """The three signals of a stream on a cocotb DUT, found by Amaranth's Verilog names
    (``<prefix>__payload``, ``__valid``, ``__ready``)."""

    def __init__(self, dut, prefix):
        self.payload = getattr(dut, f"{prefix}__payload")
        self.valid = getattr(dut, f"{prefix}__valid")
        self.ready = getattr(dut, f"{prefix}__ready")


class AxisPins:
    """An AXI4-Stream on a cocotb DUT: ``<prefix>_tdata/_tvalid/_tready/_tlast`` (``payload``,
    ``valid``, ``ready``, ``last``: the names the stream drivers use)."""

    def __init__(self, dut, prefix):
        self.payload = getattr(dut, f"{prefix}_tdata")
        self.valid = getattr(dut, f"{prefix}_tvalid")
        self.ready = getattr(dut, f"{prefix}_tready")
        self.last = getattr(dut, f"{prefix}_tlast")


async def cocotb_put(clk, pins: StreamPins, beats, gaps: Gaps | None = None, lasts=None):
    """Drive ``beats`` with random idle cycles; returns when the last beat has been taken. With
    ``lasts`` (:class:`AxisPins`), beat ``k`` carries ``tlast = lasts[k]``."""
    from cocotb.triggers import ReadOnly, RisingEdge

    for k, beat in enumerate(beats):
        while gaps is not None and gaps.skip():
            pins.valid.value = 0
            await RisingEdge(clk)
        pins.payload.value = beat
        if lasts is not None:
            pins.last.value = int(lasts[k])
        pins.valid.value = 1
        while True:
            await ReadOnly()
            taken = int(pins.ready.value)
            await RisingEdge(clk)
            if taken:
                break
        pins.valid.value = 0


async def cocotb_get(clk, pins: StreamPins, count: int, gaps: Gaps | None = None, lasts: list | None = None) -> list:
    """Collect ``count`` beats with random back-pressure (and, into ``lasts``, each beat's ``tlast``)."""
    from cocotb.triggers import ReadOnly, RisingEdge

    out = []
    while len(out) < count:
        ready = not (gaps is not None and gaps.skip())
        pins.ready.value = int(ready)
        await ReadOnly()
        if ready and int(pins.valid.value):
            out.append(int(pins.payload.value))
            if lasts is not None:
                lasts.append(int(pins.last.value))
        await RisingEdge(clk)
    pins.ready.value = 0
    return out
