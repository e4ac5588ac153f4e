from amaranth import Cat, Module, Mux, Signal, signed
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..plan.stream import ArgMaxPlan
from .output_queue import output_queue

__all__ = ["ArgMax"]


class ArgMax(wiring.Component):
    """Class of a score vector (:class:`~hw.plan.stream.ArgMaxPlan`): the index of the maximum, the
    lowest index winning ties (as ``torch.argmax``). A balanced tree of compare-selects with a
    register after every level, so a path holds one compare; the scores travel beside it, into an
    output queue. One vector per cycle; a vector enters only when the queue has room for its result
    (credits), so the levels never stall.

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
        # output queue and credits: a vector enters only when its result has a place, so the levels
        # never stall (no enable fans out to their registers)
        start = Signal()
        queue, room, _ = output_queue(m, self, plan.queue, start)
        m.d.comb += [self.i.ready.eq(room), start.eq(self.i.valid & self.i.ready)]
        level = []
        for c in range(plan.classes):
            v, ix = Signal(signed(w), name=f"v{c}"), Signal(class_bits, name=f"i{c}")
            m.d.comb += [v.eq(self.i.payload[c * w:(c + 1) * w]), ix.eq(c)]
            level.append((v, ix))
        valid, scores = start, self.i.payload
        for d in range(1, plan.levels + 1):
            nxt = []
            for j in range(0, len(level), 2):
                if j + 1 == len(level):
                    pair = level[j]
                else:
                    (va, ia), (vb, ib) = level[j], level[j + 1]
                    take_b = vb > va  # strictly greater: on a tie the lower index (a) stays
                    pair = (Mux(take_b, vb, va), Mux(take_b, ib, ia))
                ix = Signal(class_bits, name=f"i{d}_{j // 2}")
                m.d.sync += ix.eq(pair[1])
                if d < plan.levels:  # the winner's value is not needed after the last level
                    v = Signal(signed(w), name=f"v{d}_{j // 2}")
                    m.d.sync += v.eq(pair[0])
                else:
                    v = None
                nxt.append((v, ix))
            level = nxt
            nvalid, nscores = Signal(name=f"valid{d}"), Signal(plan.i_width, name=f"scores{d}")
            m.d.sync += [nvalid.eq(valid), nscores.eq(scores)]
            valid, scores = nvalid, nscores
        m.d.comb += [queue.i.valid.eq(valid), queue.i.payload.eq(Cat(level[0][1], scores))]
        return m
