from amaranth import Cat, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..plan.stream import GatherPlan

__all__ = ["Gather"]


class Gather(wiring.Component):
    """Stream width converter, narrow to wide: ``count`` beats of ``width`` bits become one beat
    (:class:`~hw.plan.stream.GatherPlan`).

    The first beat lands in the least significant bits (a flattened feature map in arrival order).
    Each beat is written into its own slot of the output register, chosen by a one-hot pointer, so
    the enable of a slot drives ``width`` flip-flops, not the whole vector (nextpnr does not
    replicate a high fan-out enable). The vector is offered from the cycle after its last beat;
    the next vector's first beat is taken in the cycle the consumer takes it (one beat per cycle,
    no bubble, while the consumer keeps up).

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
        if n == 1:
            with m.If(self.o.ready):
                m.d.sync += self.o.valid.eq(0)
            m.d.comb += self.i.ready.eq(~self.o.valid | self.o.ready)
            with m.If(self.i.valid & self.i.ready):
                m.d.sync += [self.o.valid.eq(1), self.o.payload.eq(self.i.payload)]
            return m
        slots = [Signal(w, name=f"slot{k}") for k in range(n)]
        sel = Signal(n, init=1)  # one-hot: the slot the next beat fills
        full = Signal()  # the slots hold a whole vector the consumer has not taken; sel is then slot 0
        write = Signal()
        m.d.comb += [self.o.valid.eq(full), self.o.payload.eq(Cat(*slots)),
                     self.i.ready.eq(~full | self.o.ready), write.eq(self.i.valid & self.i.ready)]
        # only slot 0 can be chosen while the slots are full: the other slots (and the pointer bits
        # past slot 1) are written on the input's valid alone, so the consumer's ready drives a
        # slot's enable, not the whole vector's
        for k in range(n):
            take = write if k == 0 else self.i.valid
            with m.If(take & sel[k]):
                m.d.sync += slots[k].eq(self.i.payload)
            with m.If(write if k < 2 else self.i.valid):
                m.d.sync += sel[k].eq(sel[k - 1])
        with m.If(self.o.ready):
            m.d.sync += full.eq(0)
        with m.If(self.i.valid & sel[-1]):
            m.d.sync += full.eq(1)
        return m
