from amaranth import Cat, Const, Module, Signal, signed, unsigned
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..plan.mst import MSTPlan
from .compressor_tree import CompressorTree
from .output_queue import output_queue

__all__ = ["MSTUnit"]


class MSTUnit(wiring.Component):
    """A fully parallel binary layer with hard-wired weights, its channels computed along an MST
    schedule, built from its :class:`~hw.plan.mst.MSTPlan`: one vector per cycle, the same stream
    interface and thresholds as a fully parallel :class:`~hw.rtl.mvtu.MVTU`.

    A root channel's popcount is a full XNOR-popcount over the K inputs. A child ``c`` of parent
    ``p`` counts only the positions Δ where their weights differ and adds:
    ``popcount_c = popcount_p + 2 * popcount(XNOR(x_Δ, W_c,Δ)) - |Δ|``. All partial popcounts run
    in parallel (popcounts padded to one latency); then one pipeline stage per tree depth adds
    each child to its parent's registered count and compares it with the channel's threshold, so
    only the output bits, not the counts, travel to the end of the pipeline. With ``vectors`` (M) >
    1 the whole datapath is there M times (a convolution's M windows per beat). The datapath never
    stalls: a vector enters only when the output queue has room for its result (credits).

    Members
    -------
    i : ``In(stream.Signature(M * k))``
    o : ``Out(stream.Signature(M * o))``
    """

    def __init__(self, plan: MSTPlan):
        self.plan = plan
        super().__init__({"i": In(stream.Signature(plan.i_width)), "o": Out(stream.Signature(plan.o_width))})

    def elaborate(self, platform):
        m = Module()
        plan = self.plan
        k, vec = plan.k, plan.vectors
        depth_max = plan.schedule.max_depth
        lat = plan.tree_latency

        # output queue and credits: a vector enters only when its result has a place
        start = Signal()
        queue, room, _ = output_queue(m, self, plan.queue, start)
        m.d.comb += [self.i.ready.eq(room), start.eq(self.i.valid & self.i.ready)]

        # input register
        x, xv = Signal(vec * k), Signal()
        m.d.sync += [x.eq(self.i.payload), xv.eq(self.i.valid & self.i.ready)]
        valid = xv
        for s in range(lat):
            r = Signal(name=f"tv{s}")
            m.d.sync += r.eq(valid)
            valid = r
        stage_valid = valid
        for level in range(depth_max + 1):
            r = Signal(name=f"sv{level}")
            m.d.sync += r.eq(stage_valid)
            stage_valid = r
        lines = [self._vector(m, x[j * k:(j + 1) * k], j) for j in range(vec)]
        m.d.comb += [queue.i.valid.eq(stage_valid), queue.i.payload.eq(Cat(*lines))]
        return m

    def _vector(self, m, x, j):
        """The output bits of one vector: every channel's partial popcount in parallel (trees
        padded to one latency), then one stage per tree depth adding each child to its parent's
        registered count and comparing it with the channel's threshold."""
        plan = self.plan
        o, sched, deltas, lat = plan.o, plan.schedule, plan.deltas, plan.tree_latency
        pre = f"v{j}_" if plan.vectors > 1 else ""
        parts = []
        for c, d in enumerate(deltas):
            # the lanes: x at the channel's positions (the tree XNORs them with its constant weights)
            m.submodules[f"{pre}tree{c}"] = tree = CompressorTree(plan.trees[c])
            lanes = Cat(*[x[int(e)] for e in d]) if len(d) else Const(0, 1)
            m.d.comb += [tree.x.eq(lanes), tree.en.eq(1)]
            val = tree.count
            for s in range(lat - plan.trees[c].latency):  # pad to the common latency
                r = Signal(val.shape(), name=f"{pre}pad{c}_{s}")
                m.d.sync += r.eq(val)
                val = r
            parts.append(val)
        pw, out = plan.pop_bits, plan.output
        parent = set(sched.parents)
        pop = [None] * o
        bit_lines = [None] * o
        for level in range(sched.max_depth + 1):
            new_pop = {}
            for c in range(o):
                if sched.depths[c] != level:
                    continue
                p = sched.parents[c]
                total = Signal(signed(pw + 1), name=f"{pre}total{c}")
                if p < 0:
                    m.d.comb += total.eq(parts[c])
                else:
                    m.d.comb += total.eq(pop[p] + (parts[c] << 1) - len(deltas[c]))
                b = Signal(name=f"{pre}b{c}_{level}")
                t = int(out.thresholds[c])
                m.d.sync += b.eq(total >= t if out.directions[c] > 0 else total <= t)
                if c in parent:  # a count its children read next stage
                    reg = Signal(unsigned(pw), name=f"{pre}pop{c}")
                    m.d.sync += reg.eq(total)
                    new_pop[c] = reg
                bit_lines[c] = b
            # parts of deeper channels and earlier bits wait one stage
            for c in range(o):
                if sched.depths[c] > level:
                    r = Signal(parts[c].shape(), name=f"{pre}part{c}_{level}")
                    m.d.sync += r.eq(parts[c])
                    parts[c] = r
                elif sched.depths[c] < level:
                    r = Signal(name=f"{pre}b{c}_{level}")
                    m.d.sync += r.eq(bit_lines[c])
                    bit_lines[c] = r
            pop = [new_pop.get(c) for c in range(o)]
        return Cat(*bit_lines)
