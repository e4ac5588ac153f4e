from amaranth import Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..plan.stream import SplitPlan

__all__ = ["Split"]


class Split(wiring.Component):
    """Stream width converter, wide to narrow (:class:`~hw.plan.stream.SplitPlan`): a beat of
    ``count * width`` bits leaves as ``count`` beats of ``width``, the least significant first.

    The wide beat waits in a register that shifts by ``width`` per narrow beat; a new wide beat
    loads on the cycle the last narrow one leaves, so narrow beats follow each other without a
    bubble.

    Members
    -------
    i : ``In(stream.Signature(width * count))``
    o : ``Out(stream.Signature(width))``
    """

    def __init__(self, plan: SplitPlan):
        self.plan = plan
        super().__init__({"i": In(stream.Signature(plan.i_width)), "o": Out(stream.Signature(plan.o_width))})

    def elaborate(self, platform):
        m = Module()
        w, n = self.plan.width, self.plan.count
        buf = Signal(w * n)
        left = Signal(range(n))  # narrow beats still to leave after the one on ``o``
        valid = Signal()
        m.d.comb += [self.o.valid.eq(valid), self.o.payload.eq(buf[:w])]
        last = Signal()
        m.d.comb += last.eq(left == 0)
        m.d.comb += self.i.ready.eq(~valid | (last & self.o.ready))
        with m.If(self.o.valid & self.o.ready):
            m.d.sync += [buf.eq(buf >> w), left.eq(Mux(last, 0, left - 1))]
            with m.If(last):
                m.d.sync += valid.eq(0)
        with m.If(self.i.valid & self.i.ready):  # after the shift: a load wins
            m.d.sync += [buf.eq(self.i.payload), left.eq(n - 1), valid.eq(1)]
        return m
