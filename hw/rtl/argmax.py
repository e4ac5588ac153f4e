from amaranth import Module, Mux, Signal, signed
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..plan.stream import ArgMaxPlan

__all__ = ["ArgMax"]


class ArgMax(wiring.Component):
    """Class of a score vector (:class:`~hw.plan.stream.ArgMaxPlan`): the index of the maximum, the
    lowest index winning ties (as ``torch.argmax``). A balanced tree of compare-selects with a
    register after every level, so a path holds one compare; the scores travel beside it. One
    vector per cycle; every level holds while the output waits.

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
        plan = self.plan
        w, class_bits = plan.score_width, plan.class_bits
        en = Signal()
        m.d.comb += [en.eq(~self.o.valid | self.o.ready), self.i.ready.eq(en)]
        level = []
        for c in range(plan.classes):
            v, ix = Signal(signed(w), name=f"v{c}"), Signal(class_bits, name=f"i{c}")
            m.d.comb += [v.eq(self.i.payload[c * w:(c + 1) * w]), ix.eq(c)]
            level.append((v, ix))
        valid, scores = self.i.valid, self.i.payload
        for d in range(1, plan.latency + 1):
            last = d == plan.latency
            nxt = []
            for j in range(0, len(level), 2):
                if j + 1 == len(level):
                    pair = level[j]
                else:
                    (va, ia), (vb, ib) = level[j], level[j + 1]
                    take_b = vb > va  # strictly greater: on a tie the lower index (a) stays
                    pair = (Mux(take_b, vb, va), Mux(take_b, ib, ia))
                if last:  # the winner's index is the output's class; its value is not needed any more
                    with m.If(en):
                        m.d.sync += self.o.payload[:class_bits].eq(pair[1])
                    continue
                v, ix = Signal(signed(w), name=f"v{d}_{j // 2}"), Signal(class_bits, name=f"i{d}_{j // 2}")
                with m.If(en):
                    m.d.sync += [v.eq(pair[0]), ix.eq(pair[1])]
                nxt.append((v, ix))
            level = nxt
            if last:
                with m.If(en):
                    m.d.sync += [self.o.valid.eq(valid), self.o.payload[class_bits:].eq(scores)]
            else:
                nvalid, nscores = Signal(name=f"valid{d}"), Signal(plan.i_width, name=f"scores{d}")
                with m.If(en):
                    m.d.sync += [nvalid.eq(valid), nscores.eq(scores)]
                valid, scores = nvalid, nscores
        return m
