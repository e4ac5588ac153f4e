from amaranth import Cat, Module, Signal, signed, unsigned
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..plan.mst import MSTPlan
from .adder_tree import AdderTree

__all__ = ["MSTUnit"]


class MSTUnit(wiring.Component):
    """A fully parallel binary layer with hard-wired weights, its channels computed along an MST
    schedule, built from its :class:`~hw.plan.mst.MSTPlan`: one vector per cycle, the same stream
    interface and thresholds as a fully parallel :class:`~hw.rtl.mvtu.MVTU`.

    A root channel's popcount is a full XNOR-popcount over the K inputs. A child ``c`` of parent
    ``p`` counts only the positions Δ where their weights differ and adds:
    ``popcount_c = popcount_p + 2 * popcount(XNOR(x_Δ, W_c,Δ)) - |Δ|``. All partial popcounts run
    in parallel (adder trees padded to one latency); then one pipeline stage per tree depth adds
    each child to its parent's registered count and compares it with the channel's threshold, so
    only the output bits, not the counts, travel to the end of the pipeline.

    Members
    -------
    i : ``In(stream.Signature(k))``
    o : ``Out(stream.Signature(o))``
    """

    def __init__(self, plan: MSTPlan):
        self.plan = plan
        super().__init__({"i": In(stream.Signature(plan.i_width)), "o": Out(stream.Signature(plan.o_width))})

    def elaborate(self, platform):
        m = Module()
        plan = self.plan
        k, o = plan.k, plan.o
        sched, deltas = plan.schedule, plan.deltas
        depth_max = sched.max_depth
        lat = plan.tree_latency
        en = Signal()

        # input register
        x, xv = Signal(k), Signal()
        m.d.comb += self.i.ready.eq(en)
        with m.If(en):
            m.d.sync += [x.eq(self.i.payload), xv.eq(self.i.valid)]

        # partial popcounts of every channel, in parallel, aligned to one latency
        parts = []
        for c, d in enumerate(deltas):
            n = max(1, len(d))
            xnor = Signal(n, name=f"xnor{c}")
            if len(d):
                bits = [x[int(j)] if plan.weights[c, j] else ~x[int(j)] for j in d]  # XNOR with a constant
                m.d.comb += xnor.eq(Cat(*bits))
            m.submodules[f"tree{c}"] = tree = AdderTree(plan.trees[c])
            m.d.comb += [tree.terms.eq(xnor), tree.en.eq(en)]
            val = tree.sum
            for s in range(lat - plan.trees[c].latency):  # pad to the common latency
                r = Signal(val.shape(), name=f"pad{c}_{s}")
                with m.If(en):
                    m.d.sync += r.eq(val)
                val = r
            parts.append(val)
        valid = xv
        for s in range(lat):
            r = Signal(name=f"tv{s}")
            with m.If(en):
                m.d.sync += r.eq(valid)
            valid = r

        # one stage per depth: popcount from the parent's, then the threshold bit
        pw = plan.pop_bits
        out = plan.output
        pop = [None] * o
        bit_lines = [None] * o
        stage_valid = valid
        for level in range(depth_max + 1):
            new_pop = {}
            for c in range(o):
                if sched.depths[c] != level:
                    continue
                p = sched.parents[c]
                total = Signal(signed(pw + 1), name=f"total{c}")
                if p < 0:
                    m.d.comb += total.eq(parts[c])
                else:
                    m.d.comb += total.eq(pop[p] + (parts[c] << 1) - len(deltas[c]))
                reg = Signal(unsigned(pw), name=f"pop{c}")
                b = Signal(name=f"b{c}_{level}")
                t = int(out.thresholds[c])
                with m.If(en):
                    m.d.sync += [reg.eq(total), b.eq(total >= t if out.directions[c] > 0 else total <= t)]
                new_pop[c] = reg
                bit_lines[c] = b
            # parts of deeper channels and earlier bits wait one stage
            for c in range(o):
                if sched.depths[c] > level:
                    r = Signal(parts[c].shape(), name=f"part{c}_{level}")
                    with m.If(en):
                        m.d.sync += r.eq(parts[c])
                    parts[c] = r
                elif sched.depths[c] < level:
                    r = Signal(name=f"b{c}_{level}")
                    with m.If(en):
                        m.d.sync += r.eq(bit_lines[c])
                    bit_lines[c] = r
            pop = [new_pop.get(c) for c in range(o)]
            r = Signal(name=f"sv{level}")
            with m.If(en):
                m.d.sync += r.eq(stage_valid)
            stage_valid = r

        # output register, stalling everything when a result cannot leave
        m.d.comb += en.eq(~(self.o.valid & ~self.o.ready & stage_valid))
        with m.If(self.o.ready):
            m.d.sync += self.o.valid.eq(0)
        with m.If(en & stage_valid):
            m.d.sync += [self.o.valid.eq(1), self.o.payload.eq(Cat(*bit_lines))]
        return m

