import numpy as np
from amaranth import Array, Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..errors import BitfoldError
from .adder_tree import AdderTree, tree_latency
from .mvtu import divisors

__all__ = ["JetUnit"]


class JetUnit(wiring.Component):
    """Neural jet feature layer: the nine jets of every input channel, then per output channel a
    signed sum of chosen jets, then thresholds.

    For each accepted 3 x 3 window the jets of every channel are computed as a group, the separable
    way: along each window row the three 1-D filters S = [1, 2, 1], D = [-1, 0, 1], L = [1, -2, 1]
    (a shift and four additions, shared by all nine jets), then the same three along the columns
    of those results. The jets are registered; then ``o / pe`` groups of ``pe`` output channels
    each take, per input channel, the jets their coefficients select (+1, -1 or 0: in the
    constrained form exactly one, with its sign) and add them over the channels in an
    :class:`AdderTree`. With ``pe = o`` (one cycle per window) the selection is wiring.

    Parameters
    ----------
    coeffs : numpy.ndarray
        int ``(o, c, 9)`` in {-1, 0, +1}; jet ``j = 3a + b`` is vertical filter ``a`` along the
        columns times horizontal filter ``b`` along the rows, in the order S, D, L.
    pe : int
        Output channels computed in parallel (divides ``o``).
    in_bits, in_signed :
        0 for a binary input (a bit b counts as 2b - 1); else the element width of integer input.
    thresholds, directions :
        Per output channel: emit ``acc >= T`` (direction +1) or ``acc <= T`` (-1).

    Members
    -------
    i : ``In(stream.Signature(9 * c * element_bits))``
        A window from :class:`~hw.rtl.sliding_window.SlidingWindow` (pixel-major, channels within).
    o : ``Out(stream.Signature(o))``
        One bit per output channel.
    """

    def __init__(self, coeffs, pe, in_bits=0, in_signed=False, thresholds=None, directions=None, reg_every=2,
                 name="jet"):
        c = np.asarray(coeffs, dtype=np.int64)
        if c.ndim != 3 or c.shape[2] != 9 or np.any(np.abs(c) > 1):
            raise BitfoldError(f"{name}: jet coefficients must be an (outputs, channels, 9) array of -1, 0, +1")
        self.coeffs = c
        self.o_count, self.channels = int(c.shape[0]), int(c.shape[1])
        if pe not in divisors(self.o_count):
            raise BitfoldError(f"{name}: PE={pe} does not divide {self.o_count} outputs; "
                               f"valid PE: {divisors(self.o_count)}")
        self.pe, self.nf = pe, self.o_count // pe
        self.in_bits, self.in_signed, self.reg_every, self.name = in_bits, bool(in_signed), reg_every, name
        self.element_bits = max(1, in_bits)
        self.thresholds = np.asarray(thresholds, dtype=np.int64)
        self.directions = np.asarray(directions, dtype=np.int64)
        if in_bits == 0:
            self.x_lo, self.x_hi = -1, 1
        elif in_signed:
            self.x_lo, self.x_hi = -(2 ** (in_bits - 1)), 2 ** (in_bits - 1) - 1
        else:
            self.x_lo, self.x_hi = 0, 2**in_bits - 1
        self.x_max = max(abs(self.x_lo), abs(self.x_hi))
        super().__init__({"i": In(stream.Signature(9 * self.channels * self.element_bits)),
                          "o": Out(stream.Signature(self.o_count))})

    # -- properties ---------------------------------------------------------------------------
    @property
    def jet_width(self) -> int:
        return (16 * self.x_max).bit_length() + 1

    def _pe_terms(self, p):
        """The (channel, jet) pairs PE ``p`` ever adds (over its output channel in every group)."""
        chans = [gi * self.pe + p for gi in range(self.nf)]
        return [(ch, j) for ch in range(self.channels) for j in range(9) if np.any(self.coeffs[chans, ch, j])]

    @property
    def terms(self) -> int:
        """Terms of every PE's adder tree (the busiest PE's count; the others are padded)."""
        return max(1, max(len(self._pe_terms(p)) for p in range(self.pe)))

    @property
    def cycles_per_vector(self) -> int:
        return self.nf

    @property
    def tree_latency(self) -> int:
        return tree_latency(self.terms, self.reg_every)

    @property
    def latency(self) -> int:
        """Edges from accepting a window to its result on ``o`` when nothing stalls: the jet
        register, the group's term register, the adder tree, the output register."""
        return self.nf + 1 + self.tree_latency

    @property
    def acc_bits(self) -> int:
        return (16 * self.x_max * 9 * self.channels).bit_length() + 1

    @property
    def register_bits(self) -> int:
        jw, c, pe = self.jet_width, self.channels, self.pe
        n = self.terms
        tree = pe * (n.bit_length() + jw) * tree_latency(n, self.reg_every)
        return 9 * c * jw + 2 * max(1, (self.nf - 1).bit_length()) + pe * n * jw + tree + \
            (self.nf - 1) * pe + self.o_count + 8

    memory_bits = 0

    # -- hardware ------------------------------------------------------------------------------
    def _jets(self, m, payload):
        """The 9 x channels jets of a window (combinational), as signed signals."""
        eb, c = self.element_bits, self.channels
        xw = max(2, eb + 1)
        out = []
        for ch in range(c):
            px = []
            for p in range(9):
                raw = payload[(p * c + ch) * eb:(p * c + ch + 1) * eb]
                v = Signal(signed(xw), name=f"x{ch}_{p}")
                if self.in_bits == 0:
                    m.d.comb += v.eq(Mux(raw[0], 1, -1))
                else:
                    m.d.comb += v.eq(raw.as_signed() if self.in_signed else raw)
                px.append(v)
            rows = []
            for r in range(3):
                x0, x1, x2 = px[3 * r:3 * r + 3]
                filt = [x0 + (x1 << 1) + x2, x2 - x0, x0 - (x1 << 1) + x2]
                sigs = []
                for f, e in zip("SDL", filt, strict=True):
                    s = Signal(signed(xw + 3), name=f"h{ch}_{r}{f}")
                    m.d.comb += s.eq(e)
                    sigs.append(s)
                rows.append(sigs)
            jets = [None] * 9
            for b in range(3):  # horizontal filter b, combined down the column with vertical filter a
                h0, h1, h2 = rows[0][b], rows[1][b], rows[2][b]
                for a, e in enumerate([h0 + (h1 << 1) + h2, h2 - h0, h0 - (h1 << 1) + h2]):
                    s = Signal(signed(self.jet_width), name=f"jet{ch}_{a}{b}")
                    m.d.comb += s.eq(e)
                    jets[3 * a + b] = s
            out.append(jets)
        return out

    def elaborate(self, platform):
        m = Module()
        pe, nf, c = self.pe, self.nf, self.channels
        jw = self.jet_width
        en = Signal()

        # -- accept a window: its jets go straight into the jet register
        jets_now = self._jets(m, self.i.payload)
        jreg = [[Signal(signed(jw), name=f"J{ch}_{j}") for j in range(9)] for ch in range(c)]
        busy = Signal()
        g = Signal(range(max(2, nf)))
        last_g = Signal()
        m.d.comb += last_g.eq(g == nf - 1)
        m.d.comb += self.i.ready.eq(en & (~busy | last_g))
        issue = Signal()
        m.d.comb += issue.eq(en & busy)
        with m.If(issue):
            if nf > 1:
                m.d.sync += g.eq(Mux(last_g, 0, g + 1))
            with m.If(last_g):
                m.d.sync += busy.eq(0)
        with m.If(self.i.valid & self.i.ready):
            m.d.sync += [busy.eq(1), g.eq(0)]
            m.d.sync += [jreg[ch][j].eq(jets_now[ch][j]) for ch in range(c) for j in range(9)]

        # -- per group: each PE's terms (selected jets with their signs), registered
        tv, tg = Signal(), Signal(range(max(2, nf)))
        with m.If(en):
            m.d.sync += [tv.eq(issue), tg.eq(g)]
        sums = []
        n_terms = self.terms
        for p in range(pe):
            chans = [gi * pe + p for gi in range(nf)]
            terms = []
            for ch, j in self._pe_terms(p):
                used = [int(self.coeffs[o, ch, j]) for o in chans]
                t = Signal(signed(jw), name=f"t{p}_{ch}_{j}")
                if nf == 1:
                    val = jreg[ch][j] if used[0] > 0 else -jreg[ch][j]
                else:
                    coef = Array(Const(u, signed(2)) for u in used)[g]
                    val = Mux(coef == 0, 0, Mux(coef[1], -jreg[ch][j], jreg[ch][j]))
                with m.If(en):
                    m.d.sync += t.eq(val)
                terms.append(t)
            terms += [Signal(signed(jw), name=f"t{p}_pad{k}") for k in range(n_terms - len(terms))]  # zeros
            m.submodules[f"tree{p}"] = tree = AdderTree(n_terms, jw, signed_terms=True, reg_every=self.reg_every)
            m.d.comb += [tree.terms.eq(Cat(*terms)), tree.en.eq(en)]
            sums.append(tree.sum)
        lat = self.tree_latency
        av, ag = tv, tg
        for d in range(lat):
            nv, ng = Signal(name=f"v{d}"), Signal(range(max(2, nf)), name=f"g{d}")
            with m.If(en):
                m.d.sync += [nv.eq(av), ng.eq(ag)]
            av, ag = nv, ng

        # -- thresholds, group assembly, output (as in the MVTU)
        bits = []
        tw = max(int(np.abs(self.thresholds).max(initial=0)).bit_length(), self.acc_bits) + 2
        for p in range(pe):
            chans = [gi * pe + p for gi in range(nf)]
            ts = [Const(int(self.thresholds[o]), signed(tw)) for o in chans]
            ups = [Const(int(self.directions[o] > 0), 1) for o in chans]
            t = ts[0] if nf == 1 else Array(ts)[ag]
            up = ups[0] if nf == 1 else Array(ups)[ag]
            b = Signal(name=f"bit{p}")
            m.d.comb += b.eq(Mux(up, sums[p] >= t, sums[p] <= t))
            bits.append(b)
        group = Signal(pe)
        m.d.comb += group.eq(Cat(*bits))
        completing = Signal()
        m.d.comb += completing.eq(av & (ag == nf - 1))
        m.d.comb += en.eq(~(self.o.valid & ~self.o.ready & completing))
        with m.If(self.o.ready):
            m.d.sync += self.o.valid.eq(0)
        if nf > 1:
            asm = Signal((nf - 1) * pe)
            with m.If(en & av & (ag != nf - 1)):
                m.d.sync += asm.eq(Cat(asm[pe:], group) if nf > 2 else group)
            payload = Cat(asm, group)
        else:
            payload = group
        with m.If(en & completing):
            m.d.sync += [self.o.valid.eq(1), self.o.payload.eq(payload)]
        return m
