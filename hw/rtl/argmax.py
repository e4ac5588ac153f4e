from amaranth import Cat, Module, Mux, Signal, signed
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..plan.stream import ArgMaxPlan

__all__ = ["ArgMax"]


class ArgMax(wiring.Component):
    """Class of a score vector (:class:`~hw.plan.stream.ArgMaxPlan`): the index of the maximum, the
    lowest index winning ties (as ``torch.argmax``). A balanced tree of compare-selects; registered
    output, full throughput.

    Members
    -------
    i : ``In(stream.Signature(classes * score_width))``
        Scores, two's complement, class ``c`` at bits ``[c*w, (c+1)*w)``.
    o : ``Out(stream.Signature(class_bits + classes * score_width))``
        The class in the low ``class_bits`` bits, then the scores unchanged.
    """

    def __init__(self, plan: ArgMaxPlan):
        self.plan = plan
        super().__init__({"i": In(stream.Signature(plan.i_width)), "o": Out(stream.Signature(plan.o_width))})

    def elaborate(self, platform):
        m = Module()
        w, class_bits = self.plan.score_width, self.plan.class_bits
        level = []
        for c in range(self.plan.classes):
            v, ix = Signal(signed(w), name=f"v{c}"), Signal(class_bits, name=f"i{c}")
            m.d.comb += [v.eq(self.i.payload[c * w:(c + 1) * w]), ix.eq(c)]
            level.append((v, ix))
        depth = 0
        while len(level) > 1:
            depth += 1
            nxt = []
            for j in range(0, len(level), 2):
                if j + 1 == len(level):
                    nxt.append(level[j])
                    continue
                (va, ia), (vb, ib) = level[j], level[j + 1]
                v, ix = Signal(signed(w), name=f"v{depth}_{j}"), Signal(class_bits, name=f"i{depth}_{j}")
                take_b = vb > va  # strictly greater: on a tie the lower index (a) stays
                m.d.comb += [v.eq(Mux(take_b, vb, va)), ix.eq(Mux(take_b, ib, ia))]
                nxt.append((v, ix))
            level = nxt
        m.d.comb += self.i.ready.eq(~self.o.valid | self.o.ready)
        with m.If(self.o.ready):
            m.d.sync += self.o.valid.eq(0)
        with m.If(self.i.valid & self.i.ready):
            m.d.sync += [self.o.valid.eq(1), self.o.payload.eq(Cat(level[0][1], self.i.payload))]
        return m
