from amaranth import Array, Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..plan.jet import JetPlan
from .adder_tree import AdderTree
from .output_queue import assemble, output_queue

__all__ = ["JetUnit"]


class JetUnit(wiring.Component):
    """Neural jet feature layer, built from its :class:`~hw.plan.jet.JetPlan`: the nine jets of
    every input channel, then per output channel a signed sum of chosen jets, then thresholds.

    For each accepted 3 x 3 window the jets of every channel are computed as a group, the separable
    way: along each window row the three 1-D filters S = [1, 2, 1], D = [-1, 0, 1], L = [1, -2, 1]
    (a shift and four additions, shared by all nine jets), then the same three along the columns
    of those results. The jets are registered; then ``o / pe`` groups of ``pe`` output channels
    each take, per input channel, the jets their coefficients select (+1, -1 or 0: in the
    constrained form exactly one, with its sign) and add them over the channels in an
    :class:`AdderTree`. With ``pe = o`` (one cycle per window) the selection is wiring. With
    ``vectors`` (M) > 1 all of it is there M times, for the M windows of a beat. The datapath never
    stalls: a window starts only when the output queue has room for its result (credits).

    Members
    -------
    i : ``In(stream.Signature(M * 9 * c * element_bits))``
        M windows from :class:`~hw.rtl.sliding_window.SlidingWindow` (pixel-major, channels within).
    o : ``Out(stream.Signature(M * o))``
        One bit per output channel and window.
    """

    def __init__(self, plan: JetPlan):
        self.plan = plan
        super().__init__({"i": In(stream.Signature(plan.i_width)), "o": Out(stream.Signature(plan.o_width))})

    def _jets(self, m, payload, pre=""):
        """The 9 x channels jets of a window (combinational), as signed signals."""
        plan = self.plan
        eb, c = plan.element_bits, plan.channels
        xw = max(2, eb + 1)
        out = []
        for ch in range(c):
            px = []
            for p in range(9):
                raw = payload[(p * c + ch) * eb:(p * c + ch + 1) * eb]
                v = Signal(signed(xw), name=f"{pre}x{ch}_{p}")
                if plan.in_bits == 0:
                    m.d.comb += v.eq(Mux(raw[0], 1, -1))
                else:
                    m.d.comb += v.eq(raw.as_signed() if plan.in_signed else raw)
                px.append(v)
            rows = []
            for r in range(3):
                x0, x1, x2 = px[3 * r:3 * r + 3]
                filt = [x0 + (x1 << 1) + x2, x2 - x0, x0 - (x1 << 1) + x2]
                sigs = []
                for f, e in zip("SDL", filt, strict=True):
                    s = Signal(signed(xw + 3), name=f"{pre}h{ch}_{r}{f}")
                    m.d.comb += s.eq(e)
                    sigs.append(s)
                rows.append(sigs)
            jets = [None] * 9
            for b in range(3):  # horizontal filter b, combined down the column with vertical filter a
                h0, h1, h2 = rows[0][b], rows[1][b], rows[2][b]
                for a, e in enumerate([h0 + (h1 << 1) + h2, h2 - h0, h0 - (h1 << 1) + h2]):
                    s = Signal(signed(plan.jet_width), name=f"{pre}jet{ch}_{a}{b}")
                    m.d.comb += s.eq(e)
                    jets[3 * a + b] = s
            out.append(jets)
        return out

    def elaborate(self, platform):
        m = Module()
        plan = self.plan
        pe, nf, c, vec = plan.pe, plan.nf, plan.channels, plan.vectors
        jw = plan.jet_width

        # -- output queue and credits; a window starts when its result has a place
        start = Signal()
        queue, room, _ = output_queue(m, self, plan.queue, start)

        # -- accept M windows: their jets go straight into the jet registers
        wbits = plan.i_width // vec
        jreg = []
        for v in range(vec):
            jets_now = self._jets(m, self.i.payload[v * wbits:(v + 1) * wbits], f"w{v}_" if vec > 1 else "")
            jreg.append([[Signal(signed(jw), name=f"J{v}_{ch}_{j}" if vec > 1 else f"J{ch}_{j}") for j in range(9)]
                         for ch in range(c)])
            with m.If(start):
                m.d.sync += [jreg[v][ch][j].eq(jets_now[ch][j]) for ch in range(c) for j in range(9)]
        busy = Signal()
        g = Signal(range(nf), name="g") if nf > 1 else Const(0, 1)
        last_g = Signal()
        m.d.comb += last_g.eq(g == nf - 1)
        # ``avail``: a register equal to ~busy | last_g (a window may come), so ``ready`` starts at
        # flip-flops
        avail = Signal(init=1) if nf > 1 else Const(1, 1)
        m.d.comb += [self.i.ready.eq(avail & room), start.eq(self.i.valid & self.i.ready)]
        with m.If(busy):
            if nf > 1:
                m.d.sync += [g.eq(Mux(last_g, 0, g + 1)), avail.eq(g >= nf - 2)]
            with m.If(last_g):
                m.d.sync += busy.eq(0)
        with m.If(start):
            m.d.sync += busy.eq(1)
            if nf > 1:
                m.d.sync += [g.eq(0), avail.eq(0)]

        # -- per group: each PE's terms (selected jets with their signs), registered
        tv = Signal()
        tg = Signal(range(nf), name="tg") if nf > 1 else Const(0, 1)
        m.d.sync += tv.eq(busy)
        if nf > 1:
            m.d.sync += tg.eq(g)
        sums = [[self._sum(m, v, p, jreg[v], g) for p in range(pe)] for v in range(vec)]
        av, ag = tv, tg
        for d in range(plan.tree.latency):
            nv = Signal(name=f"v{d}")
            m.d.sync += nv.eq(av)
            if nf > 1:
                ng = Signal(range(nf), name=f"g{d}")
                m.d.sync += ng.eq(ag)
                ag = ng
            av = nv

        # -- thresholds, registered; group assembly into the queue (as in the MVTU)
        tw = plan.threshold_width
        out = plan.output
        fv = Signal()
        fg = Signal(range(nf), name="fg") if nf > 1 else Const(0, 1)
        m.d.sync += fv.eq(av)
        if nf > 1:
            m.d.sync += fg.eq(ag)
        groups = []
        for v in range(vec):
            bits = []
            for p in range(pe):
                chans = [gi * pe + p for gi in range(nf)]
                ts = [Const(int(out.thresholds[o]), signed(tw)) for o in chans]
                ups = [Const(int(out.directions[o] > 0), 1) for o in chans]
                t = ts[0] if nf == 1 else Array(ts)[ag]
                up = ups[0] if nf == 1 else Array(ups)[ag]
                b = Signal(name=f"bit{v}_{p}" if vec > 1 else f"bit{p}")
                m.d.sync += b.eq(Mux(up, sums[v][p] >= t, sums[v][p] <= t))
                bits.append(b)
            groups.append(Cat(*bits))
        assemble(m, queue, fv, fg, nf, groups)
        return m

    def _sum(self, m, v, p, jreg, g):
        """PE ``p``'s sum on window ``v``: the jets its coefficients select in group ``g``, with their
        signs, registered, then added in its tree."""
        plan = self.plan
        pe, nf, jw = plan.pe, plan.nf, plan.jet_width
        pre = f"{v}_" if plan.vectors > 1 else ""
        chans = [gi * pe + p for gi in range(nf)]
        terms = []
        for ch, j in plan.pe_terms(p):
            used = [int(plan.coeffs[o, ch, j]) for o in chans]
            t = Signal(signed(jw), name=f"t{pre}{p}_{ch}_{j}")
            if nf == 1:
                val = jreg[ch][j] if used[0] > 0 else -jreg[ch][j]
            else:
                coef = Array(Const(u, signed(2)) for u in used)[g]
                val = Mux(coef == 0, 0, Mux(coef[1], -jreg[ch][j], jreg[ch][j]))
            m.d.sync += t.eq(val)
            terms.append(t)
        terms += [Signal(signed(jw), name=f"t{pre}{p}_pad{k}") for k in range(plan.terms - len(terms))]  # zeros
        m.submodules[f"tree{pre}{p}"] = tree = AdderTree(plan.tree)
        m.d.comb += [tree.terms.eq(Cat(*terms)), tree.en.eq(1)]
        return tree.sum
