import numpy as np
from amaranth import Cat, Module, Signal, signed, unsigned
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..errors import BitfoldError
from .adder_tree import AdderTree, tree_latency

__all__ = ["MSTUnit"]


class MSTUnit(wiring.Component):
    """A fully parallel binary layer with hard-wired weights, its channels computed along an MST
    schedule (:mod:`hw.mst`): one vector per cycle, the same stream interface and thresholds as a
    fully parallel :class:`~hw.rtl.mvtu.MVTU`.

    A root channel's popcount is a full XNOR-popcount over the K inputs. A child ``c`` of parent
    ``p`` counts only the positions Δ where their weights differ and adds:
    ``popcount_c = popcount_p + 2 * popcount(XNOR(x_Δ, W_c,Δ)) - |Δ|``. All partial popcounts run
    in parallel (adder trees padded to one latency); then one pipeline stage per tree depth adds
    each child to its parent's registered count and compares it with the channel's threshold, so
    only the output bits, not the counts, travel to the end of the pipeline.

    Parameters
    ----------
    weights : numpy.ndarray
        Weight bits ``(o, k)``.
    parents : sequence of int
        The schedule: parent channel of each channel, -1 for a root.
    thresholds, directions :
        On the popcount: bit ``popcount >= T`` (direction +1) or ``popcount <= T`` (-1).

    Members
    -------
    i : ``In(stream.Signature(k))``
    o : ``Out(stream.Signature(o))``
    """

    def __init__(self, weights, parents, thresholds, directions, reg_every=2, name="mst"):
        w = np.asarray(weights)
        if w.ndim != 2 or w.dtype != np.uint8:
            raise BitfoldError(f"{name}: weights must be a 2-D uint8 array of bits")
        from ..mst import Schedule

        self.schedule = Schedule(tuple(parents))
        if len(self.schedule.parents) != len(w):
            raise BitfoldError(f"{name}: the schedule has {len(self.schedule.parents)} channels, the layer {len(w)}")
        self.weights, self.name, self.reg_every = w, name, reg_every
        self.o_count, self.k = (int(s) for s in w.shape)
        self.thresholds = np.asarray(thresholds, dtype=np.int64)
        self.directions = np.asarray(directions, dtype=np.int64)
        super().__init__({"i": In(stream.Signature(self.k)), "o": Out(stream.Signature(self.o_count))})

    def deltas(self):
        """Per channel: the input positions its tree counts (all for a root, Δ for a child)."""
        out = []
        for c, p in enumerate(self.schedule.parents):
            out.append(np.arange(self.k) if p < 0 else np.flatnonzero(self.weights[c] != self.weights[p]))
        return out

    @property
    def xnors(self) -> int:
        return int(sum(len(d) for d in self.deltas()))

    @property
    def tree_latency(self) -> int:
        return tree_latency(max(1, max(len(d) for d in self.deltas())), self.reg_every)

    @property
    def latency(self) -> int:
        """Edges from accepting a vector to its result: input register, trees, one stage per depth
        level below the roots' own stage, output register."""
        return 1 + self.tree_latency + self.schedule.max_depth + 1

    @property
    def cycles_per_vector(self) -> int:
        return 1

    @property
    def register_bits(self) -> int:
        deltas = self.deltas()
        trees = sum(_tree_regs(max(1, len(d)), self.reg_every) + len(d).bit_length() *
                    (self.tree_latency - tree_latency(max(1, len(d)), self.reg_every)) for d in deltas)
        pops = sum((self.k.bit_length()) for _ in deltas)
        bits = self.o_count * (self.schedule.max_depth + 1)
        return self.k + trees + pops + bits + self.o_count + self.tree_latency + self.schedule.max_depth + 2

    memory_bits = 0

    def elaborate(self, platform):
        m = Module()
        k, o = self.k, self.o_count
        sched, deltas = self.schedule, self.deltas()
        depth_max = sched.max_depth
        lat = self.tree_latency
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
                bits = [x[int(j)] if self.weights[c, j] else ~x[int(j)] for j in d]  # XNOR with a constant
                m.d.comb += xnor.eq(Cat(*bits))
            m.submodules[f"tree{c}"] = tree = AdderTree(n, 1, reg_every=self.reg_every)
            m.d.comb += [tree.terms.eq(xnor), tree.en.eq(en)]
            val = tree.sum
            for s in range(lat - tree.latency):  # pad to the common latency
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
        pw = k.bit_length() + 1
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
                t = int(self.thresholds[c])
                with m.If(en):
                    m.d.sync += [reg.eq(total), b.eq(total >= t if self.directions[c] > 0 else total <= t)]
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


def _tree_regs(n, reg_every):
    from .mvtu import _tree_register_bits

    return _tree_register_bits(n, 1, False, reg_every)
