from amaranth import Array, Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ..plan.memory import MemoryStyle
from ..plan.mvtu import MVTUPlan
from .adder_tree import AdderTree
from .group_output import group_output

__all__ = ["MVTU"]


class MVTU(wiring.Component):
    """Matrix-vector-threshold unit: one binary-weight layer folded PE x SIMD, built from its
    :class:`~hw.plan.mvtu.MVTUPlan` (which holds the folding, widths, weight words, latency and
    storage).

    Pipeline: issue (the vector register rotates by ``simd`` elements per cycle, so chunks come from
    fixed wires, not a wide multiplexer) -> weight fetch (one registered stage) -> XNOR (or
    add/subtract) + :class:`AdderTree` -> accumulate -> threshold or score -> output register
    (:func:`group_output`). One enable stalls every stage when a finished vector cannot leave.

    Members
    -------
    i : ``In(stream.Signature(k * element_bits))``
        One vector per beat.
    o : ``Out(stream.Signature(o * out_bits))``
        One result vector per beat: ``o`` bits, or ``o`` scores of the score width.
    """

    def __init__(self, plan: MVTUPlan):
        self.plan = plan
        super().__init__({"i": In(stream.Signature(plan.i_width)), "o": Out(stream.Signature(plan.o_width))})

    # -- hardware ------------------------------------------------------------------------------
    def elaborate(self, platform):
        m = Module()
        plan = self.plan
        k, pe, simd, nf, sf, eb = plan.k, plan.pe, plan.simd, plan.nf, plan.sf, plan.element_bits
        chunk_bits = simd * eb
        en = Signal()

        # -- issue stage
        x = Signal(k * eb)
        busy = Signal()
        s = Signal(range(max(2, sf)))
        g = Signal(range(max(2, nf)))
        depth = nf * sf
        addr = Signal(range(max(2, depth)))
        last_s = Signal()
        last_g = Signal()
        m.d.comb += [last_s.eq(s == sf - 1), last_g.eq(g == nf - 1)]
        m.d.comb += self.i.ready.eq(en & (~busy | (last_s & last_g)))
        issue, load = Signal(), Signal()
        m.d.comb += [issue.eq(en & busy), load.eq(self.i.valid & self.i.ready)]
        with m.If(issue):
            m.d.sync += addr.eq(Mux(last_s & last_g, 0, addr + 1))
            if sf > 1:
                m.d.sync += s.eq(Mux(last_s, 0, s + 1))
            if nf > 1:
                with m.If(last_s):
                    m.d.sync += g.eq(Mux(last_g, 0, g + 1))
            with m.If(last_s & last_g):
                m.d.sync += busy.eq(0)
        if sf > 1:
            # ``take``: a register equal to ~busy | (last_s & last_g), the cycles in which a load
            # may come. It alone chooses the vector register's next value (payload or rotated), so
            # each bit is a 3-input function; the handshake only drives the flip-flops' enable.
            # (Chosen by the combinational handshake, ABC copied the whole handshake into every
            # bit's cone on some designs: a 15-input function per bit.) A rotation in the last
            # issue cycle is lost to the payload, harmlessly: the register is not read again
            # before the next load.
            take = Signal(init=1)
            with m.If(issue):
                m.d.sync += take.eq(addr >= depth - 2)  # the next issue is the last, or none is left
            with m.If(load):  # a load wins
                m.d.sync += take.eq(0)
            with m.If(load | issue):
                m.d.sync += x.eq(Mux(take, self.i.payload, Cat(x[chunk_bits:], x[:chunk_bits])))
        else:
            with m.If(load):
                m.d.sync += x.eq(self.i.payload)
        with m.If(load):  # after the issue block: a load wins
            m.d.sync += [busy.eq(1), s.eq(0), g.eq(0), addr.eq(0)]
        x_chunk = Signal(chunk_bits)
        m.d.comb += x_chunk.eq(x[:chunk_bits])

        # -- weight stage: registered chunk, flags and weight word
        wv, wfirst, wlast = Signal(), Signal(), Signal()
        wg = Signal(range(max(2, nf)))
        wx = Signal(chunk_bits)
        with m.If(en):
            m.d.sync += [wv.eq(issue), wfirst.eq(s == 0), wlast.eq(last_s), wg.eq(g), wx.eq(x_chunk)]
        words = plan.weight_words()
        wword = Signal(pe * simd)
        if plan.weight_style == MemoryStyle.WIRED:
            m.d.comb += wword.eq(words[0])  # hard-wired: XNOR with a constant folds into the tree
        else:
            # a constant-mode layer that is folded keeps its weights as a table in logic; a memory-
            # mode layer in block RAM, or in logic when it is small (see memory_style)
            style = str(plan.weight_style)
            m.submodules.weights = mem = Memory(shape=pe * simd, depth=depth, init=words,
                                                attrs={"rom_style": style, "ram_style": style})
            rp = mem.read_port()
            m.d.comb += [rp.addr.eq(addr), rp.en.eq(en), wword.eq(rp.data)]

        # -- XNOR / add-subtract + adder trees, one per PE
        lat = plan.tree.latency
        counts = []
        for p in range(pe):
            m.submodules[f"tree{p}"] = tree = AdderTree(plan.tree)
            wbits = Signal(simd, name=f"w{p}")
            m.d.comb += [wbits.eq(wword[p * simd:(p + 1) * simd]), tree.en.eq(en)]
            if plan.binary:
                xnor = Signal(simd, name=f"xnor{p}")
                m.d.comb += [xnor.eq(~(wx ^ wbits)), tree.terms.eq(xnor)]
            else:
                tw = plan.term_width
                terms = []
                for j in range(simd):
                    xe = Signal(signed(tw), name=f"x{p}_{j}")
                    raw = wx[j * eb:(j + 1) * eb]
                    m.d.comb += xe.eq(raw.as_signed() if plan.in_signed else raw)
                    t = Signal(signed(tw), name=f"term{p}_{j}")
                    m.d.comb += t.eq(Mux(wbits[j], xe, -xe))
                    terms.append(t)
                m.d.comb += tree.terms.eq(Cat(*terms))
            counts.append(tree.sum)
        # flags travel beside the tree
        av, afirst, alast, ag = wv, wfirst, wlast, wg
        for d in range(lat):
            nv, nfirst, nlast = Signal(name=f"v{d}"), Signal(name=f"first{d}"), Signal(name=f"last{d}")
            ng = Signal(range(max(2, nf)), name=f"g{d}")
            with m.If(en):
                m.d.sync += [nv.eq(av), nfirst.eq(afirst), nlast.eq(alast), ng.eq(ag)]
            av, afirst, alast, ag = nv, nfirst, nlast, ng

        # -- accumulate, then threshold or score
        acc_shape = signed(plan.acc_bits) if plan.acc_signed else unsigned(plan.acc_bits)
        results = []
        for p in range(pe):
            acc = Signal(acc_shape, name=f"acc{p}")
            total = Signal(acc_shape, name=f"total{p}")
            m.d.comb += total.eq(Mux(afirst, 0, acc) + counts[p])
            with m.If(en & av):
                m.d.sync += acc.eq(total)
            results.append(self._finish(m, p, total, ag))
        group_bits = pe * plan.out_bits
        group = Signal(group_bits)
        m.d.comb += group.eq(Cat(*results))
        group_output(m, self.o, en, (av, alast), ag, nf, group)
        return m

    def _finish(self, m, p, total, g):
        """Output element of PE ``p`` for group ``g`` from its accumulator total."""
        plan = self.plan
        nf, pe, out = plan.nf, plan.pe, plan.output
        chans = [gi * pe + p for gi in range(nf)]
        if not plan.scores:
            bit = Signal(name=f"bit{p}")
            tw = plan.threshold_width
            ts = [Const(int(out.thresholds[c]), signed(tw)) for c in chans]
            ups = [Const(int(out.directions[c] > 0), 1) for c in chans]
            t = ts[0] if nf == 1 else Array(ts)[g]
            up = ups[0] if nf == 1 else Array(ups)[g]
            m.d.comb += bit.eq(Mux(up, total >= t, total <= t))
            return bit
        score = Signal(signed(out.width), name=f"score{p}")
        dot = 2 * total - plan.k if plan.binary else total
        biases = [Const(int(out.bias[c]), signed(out.width)) for c in chans]
        bias = biases[0] if nf == 1 else Array(biases)[g]
        m.d.comb += score.eq((dot if out.sign > 0 else -dot) + bias)
        return score
