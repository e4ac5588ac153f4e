from amaranth import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..plan.stream import OrPoolPlan

__all__ = ["OrReduce"]


class OrReduce(wiring.Component):
    """Binary max-pooling of one window: the OR, channel by channel, of ``pixels`` pixels
    (:class:`~hw.plan.stream.OrPoolPlan`). The max of ±1 values is the OR of their bits.
    Registered output, full throughput.

    Members
    -------
    i : ``In(stream.Signature(pixels * channels))``
        A window from :class:`~hw.rtl.sliding_window.SlidingWindow` (pixel-major, channels within).
    o : ``Out(stream.Signature(channels))``
    """

    def __init__(self, plan: OrPoolPlan):
        self.plan = plan
        super().__init__({"i": In(stream.Signature(plan.i_width)), "o": Out(stream.Signature(plan.o_width))})

    def elaborate(self, platform):
        m = Module()
        c = self.plan.channels
        ored = Signal(c)
        acc = self.i.payload[:c]
        for p in range(1, self.plan.pixels):
            acc = acc | self.i.payload[p * c:(p + 1) * c]
        m.d.comb += ored.eq(acc)
        m.d.comb += self.i.ready.eq(~self.o.valid | self.o.ready)
        with m.If(self.o.ready):
            m.d.sync += self.o.valid.eq(0)
        with m.If(self.i.valid & self.i.ready):
            m.d.sync += [self.o.valid.eq(1), self.o.payload.eq(ored)]
        return m
