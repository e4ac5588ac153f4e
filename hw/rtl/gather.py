from amaranth import Cat, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..plan.stream import GatherPlan

__all__ = ["Gather"]


class Gather(wiring.Component):
    """Stream width converter, narrow to wide: ``count`` beats of ``width`` bits become one beat
    (:class:`~hw.plan.stream.GatherPlan`).

    The first beat lands in the least significant bits (a flattened feature map in arrival order).
    Beats shift into a collecting register; the completed vector moves to the output register, so
    the next vector collects while this one waits: one input beat per cycle, no bubble.

    Members
    -------
    i : ``In(stream.Signature(width))``
    o : ``Out(stream.Signature(width * count))``
    """

    def __init__(self, plan: GatherPlan):
        self.plan = plan
        super().__init__({"i": In(stream.Signature(plan.i_width)), "o": Out(stream.Signature(plan.o_width))})

    def elaborate(self, platform):
        m = Module()
        w, n = self.plan.width, self.plan.count
        with m.If(self.o.ready):
            m.d.sync += self.o.valid.eq(0)
        if n == 1:
            m.d.comb += self.i.ready.eq(~self.o.valid | self.o.ready)
            with m.If(self.i.valid & self.i.ready):
                m.d.sync += [self.o.valid.eq(1), self.o.payload.eq(self.i.payload)]
            return m
        buf = Signal(w * (n - 1))
        idx = Signal(range(n))
        last = Signal()
        m.d.comb += last.eq(idx == n - 1)
        m.d.comb += self.i.ready.eq(~last | ~self.o.valid | self.o.ready)
        with m.If(self.i.valid & self.i.ready):
            m.d.sync += idx.eq(idx + 1)
            with m.If(last):
                m.d.sync += [self.o.valid.eq(1), self.o.payload.eq(Cat(buf, self.i.payload)), idx.eq(0)]
            with m.Else():
                m.d.sync += buf.eq(Cat(buf[w:], self.i.payload) if n > 2 else self.i.payload)
        return m
