from amaranth import Module, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..plan.tree import AdderTreePlan

__all__ = ["AdderTree"]


class AdderTree(wiring.Component):
    """Pipelined balanced adder tree: the sum of ``n`` terms, shaped by its
    :class:`~hw.plan.tree.AdderTreePlan` (levels, where the registers go, latency).

    Every register loads only when ``en`` is high, so a stall freezes the whole tree. Each level's
    results are named signals, so the Verilog stays linear in ``n``.

    Members
    -------
    terms : ``In(n * term_width)``
        Term ``j`` in bits ``[j*term_width, (j+1)*term_width)``.
    en : ``In(1)``
        Pipeline enable.
    sum : ``Out(out_width)``
        The sum, ``latency`` cycles (enabled edges) after its terms.
    """

    def __init__(self, plan: AdderTreePlan):
        self.plan = plan
        shape = signed(plan.out_width) if plan.signed else unsigned(plan.out_width)
        super().__init__({"terms": In(plan.n * plan.term_width), "en": In(1), "sum": Out(shape)})

    def elaborate(self, platform):
        m = Module()
        p = self.plan
        shape = signed(p.term_width) if p.signed else unsigned(p.term_width)
        level = []
        for j in range(p.n):
            t = Signal(shape, name=f"t{j}")
            m.d.comb += t.eq(self.terms[j * p.term_width:(j + 1) * p.term_width])
            level.append(t)
        depth = 0
        while len(level) > 1:
            depth += 1
            registered = p.reg_every and depth % p.reg_every == 0
            nxt = []
            for j in range(0, len(level), 2):
                if j + 1 < len(level):
                    expr = level[j] + level[j + 1]
                else:
                    expr = level[j]
                s = Signal(expr.shape(), name=f"l{depth}_{j // 2}")
                if registered:
                    with m.If(self.en):
                        m.d.sync += s.eq(expr)
                else:
                    m.d.comb += s.eq(expr)
                nxt.append(s)
            level = nxt
        # a final partial stage, so the latency is ceil(levels / reg_every)
        if p.reg_every and depth % p.reg_every:
            s = Signal(level[0].shape(), name="l_out")
            with m.If(self.en):
                m.d.sync += s.eq(level[0])
            level = [s]
        m.d.comb += self.sum.eq(level[0])
        return m
