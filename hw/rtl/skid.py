from amaranth import Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..plan.stream import SkidPlan

__all__ = ["SkidBuffer"]


class SkidBuffer(wiring.Component):
    """Two-entry register slice (:class:`~hw.plan.stream.SkidPlan`): full throughput, and
    ``i.ready`` comes from a register.

    Placed between dataflow stages it cuts the combinational ready path that would otherwise run
    from the last layer back to the first (a long path limits Fmax), at one cycle of latency.

    Members
    -------
    i : ``In(stream.Signature(width))``
    o : ``Out(stream.Signature(width))``
    """

    def __init__(self, plan: SkidPlan):
        self.plan = plan
        super().__init__({"i": In(stream.Signature(plan.width)), "o": Out(stream.Signature(plan.width))})

    def elaborate(self, platform):
        m = Module()
        skid = Signal(self.plan.width)
        skid_valid = Signal()
        m.d.comb += self.i.ready.eq(~skid_valid)
        take = self.i.valid & self.i.ready
        out_free = ~self.o.valid | self.o.ready
        with m.If(out_free):
            # refill the output from the skid entry first, else straight from the input
            m.d.sync += [self.o.valid.eq(skid_valid | self.i.valid),
                         self.o.payload.eq(Mux(skid_valid, skid, self.i.payload)),
                         skid_valid.eq(0)]
        with m.Elif(take):
            m.d.sync += [skid.eq(self.i.payload), skid_valid.eq(1)]
        return m
