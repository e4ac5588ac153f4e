from amaranth import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..plan.stream import OrPoolPlan

__all__ = ["OrReduce"]


class OrReduce(wiring.Component):
    """Binary max-pooling of ``windows`` windows per beat (:class:`~hw.plan.stream.OrPoolPlan`): per
    window the OR, channel by channel, of its ``pixels`` pixels. The max of ±1 values is the OR of
    their bits. Registered output, full throughput.

    Members
    -------
    i : ``In(stream.Signature(windows * pixels * channels))``
        Windows from :class:`~hw.rtl.sliding_window.SlidingWindow` (window-major, then pixel-major,
        channels within).
    o : ``Out(stream.Signature(windows * channels))``
        Window ``m``'s pooled pixel in bits ``[m*channels, (m+1)*channels)``.
    """

    def __init__(self, plan: OrPoolPlan):
        self.plan = plan
        super().__init__({"i": In(stream.Signature(plan.i_width)), "o": Out(stream.Signature(plan.o_width))})

    def elaborate(self, platform):
        m = Module()
        c, pixels = self.plan.channels, self.plan.pixels
        ored = Signal(self.plan.o_width)
        for w in range(self.plan.windows):
            base = w * pixels * c
            acc = self.i.payload[base:base + c]
            for p in range(1, pixels):
                acc = acc | self.i.payload[base + p * c:base + (p + 1) * c]
            m.d.comb += ored[w * c:(w + 1) * c].eq(acc)
        m.d.comb += self.i.ready.eq(~self.o.valid | self.o.ready)
        with m.If(self.o.ready):
            m.d.sync += self.o.valid.eq(0)
        with m.If(self.i.valid & self.i.ready):
            m.d.sync += [self.o.valid.eq(1), self.o.payload.eq(ored)]
        return m
