import numpy as np
from amaranth import Array, Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ..errors import BitfoldError
from .adder_tree import AdderTree, tree_latency
from .stream_fifo import memory_style

__all__ = ["MVTU", "divisors"]


def _tree_register_bits(n, width, signed_terms, reg_every):
    """Bits held in an AdderTree's pipeline registers (mirrors AdderTree.elaborate)."""
    if not reg_every or n < 2:
        return 0
    widths, depth, total = [width] * n, 0, 0
    while len(widths) > 1:
        depth += 1
        widths = [max(widths[j:j + 2]) + (1 if j + 1 < len(widths) else 0) for j in range(0, len(widths), 2)]
        if depth % reg_every == 0:
            total += sum(widths)
    if depth % reg_every:
        total += widths[0]
    return total


def divisors(n: int):
    return [d for d in range(1, n + 1) if n % d == 0]


class MVTU(wiring.Component):
    """Matrix-vector-threshold unit: one binary-weight layer, folded PE x SIMD.

    Each input beat is one whole vector of ``k`` elements. The unit computes ``o`` outputs in
    ``o / pe`` groups of ``pe`` parallel neurons, each group reading ``simd`` elements per cycle
    over ``k / simd`` cycles, so one vector takes ``(o / pe) * (k / simd)`` cycles. The next vector
    is loaded on the cycle the last chunk of the current one issues, so vectors follow each other
    without a bubble; a fully parallel unit (``pe = o``, ``simd = k``) accepts a vector every cycle.

    Pipeline: issue (the vector register rotates by ``simd`` elements per cycle, so chunks come from
    fixed wires, not a wide multiplexer) -> weight fetch (one registered stage) -> XNOR (or
    add/subtract) + :class:`AdderTree` (``tree latency`` stages) -> accumulate -> threshold or score
    -> output register. One enable stalls every stage when a finished vector cannot leave.

    Parameters
    ----------
    weights : numpy.ndarray
        Weight bits ``(o, k)``, 1 meaning +1, columns in the order elements arrive in a vector.
    pe, simd : int
        Output channels computed in parallel (must divide ``o``) and input elements read per cycle
        (must divide ``k``).
    in_bits : int
        0 for a binary input (XNOR + popcount); else the element width of an integer input
        (k-bit x ±1: add where the weight is +1, subtract where it is -1).
    in_signed : bool
        Integer input elements are two's complement.
    mode : str
        ``"memory"``: weights in an :class:`amaranth.lib.memory.Memory` of depth
        ``(o/pe) * (k/simd)`` and width ``pe * simd`` (BRAM or LUTRAM). ``"constant"``: weights
        hard-wired into logic (XNOR with a constant is free).
    thresholds, directions : numpy.ndarray, optional
        Threshold output: channel ``c`` emits bit ``acc >= T[c]`` (direction +1) or ``acc <= T[c]``
        (-1), where ``acc`` is the popcount (binary input) or the signed sum (integer input).
    score_sign, score_bias, score_width :
        Score output instead (``thresholds`` None): channel ``c`` emits
        ``score_sign * dot + score_bias[c]`` as a ``score_width``-bit signed integer, where ``dot``
        is ``2 * popcount - k`` (binary input) or the signed sum.
    reg_every : int
        Adder tree levels per pipeline stage.

    Members
    -------
    i : ``In(stream.Signature(k * element_bits))``
        One vector per beat.
    o : ``Out(stream.Signature(o * out_bits))``
        One result vector per beat: ``o`` bits, or ``o`` scores of ``score_width`` bits.
    """

    def __init__(self, weights, pe, simd, in_bits=0, in_signed=False, mode="memory", thresholds=None,
                 directions=None, score_sign=1, score_bias=None, score_width=None, reg_every=2, name="mvtu"):
        w = np.asarray(weights)
        if w.ndim != 2 or w.dtype != np.uint8 or (w.size and w.max() > 1):
            raise BitfoldError(f"{name}: weights must be a 2-D uint8 array of bits")
        self.o_count, self.k = (int(s) for s in w.shape)
        if pe not in divisors(self.o_count):
            raise BitfoldError(f"{name}: PE={pe} does not divide {self.o_count} outputs; "
                               f"valid PE: {divisors(self.o_count)}")
        if simd not in divisors(self.k):
            raise BitfoldError(f"{name}: SIMD={simd} does not divide {self.k} inputs; valid SIMD: {divisors(self.k)}")
        if mode not in ("memory", "constant"):
            raise BitfoldError(f"{name}: weight mode must be 'memory' or 'constant', not {mode!r}")
        self.weights, self.pe, self.simd, self.mode, self.reg_every = w, pe, simd, mode, reg_every
        self.in_bits, self.in_signed, self.name = in_bits, bool(in_signed), name
        self.nf, self.sf = self.o_count // pe, self.k // simd
        self.element_bits = max(1, in_bits)
        if thresholds is not None:
            self.thresholds = np.asarray(thresholds, dtype=np.int64)
            self.directions = np.asarray(directions, dtype=np.int64)
            self.out_bits = 1
        else:
            self.thresholds = None
            self.score_sign = int(score_sign)
            self.score_bias = np.zeros(self.o_count, np.int64) if score_bias is None else np.asarray(score_bias)
            self.out_bits = int(score_width)
        super().__init__({
            "i": In(stream.Signature(self.k * self.element_bits)),
            "o": Out(stream.Signature(self.o_count * self.out_bits)),
        })

    # -- static properties ------------------------------------------------------------------------
    @property
    def cycles_per_vector(self) -> int:
        return self.nf * self.sf

    @property
    def tree_latency(self) -> int:
        return tree_latency(self.simd, self.reg_every)

    @property
    def latency(self) -> int:
        """Clock edges from the edge that accepts a vector to the edge that makes its result valid
        on ``o``, when nothing stalls."""
        # the last chunk issues cycles_per_vector - 1 cycles after the load; then the weight
        # register, the tree's stages and the output register
        return self.cycles_per_vector + 1 + self.tree_latency

    @property
    def register_bits(self) -> int:
        """Flip-flops: vector register, counters, weight-stage registers, adder tree pipeline,
        accumulators, group assembly and output register (memory read data is in memory_bits)."""
        k, pe, simd, nf, sf, eb = self.k, self.pe, self.simd, self.nf, self.sf, self.element_bits
        lo, hi = self.acc_range()
        acc = max(hi.bit_length(), (-lo - 1).bit_length()) + (1 if lo < 0 else 0)
        counters = 2 * max(1, (nf * sf - 1).bit_length()) + 2 + (1 if sf > 1 else 0)  # + take
        weight_reg = 0  # a table's read data register belongs to its memory (memory_bits)
        tree = pe * _tree_register_bits(simd, self._term_width(), self.in_bits > 0, self.reg_every)
        flags = (self.tree_latency + 1) * (3 + max(1, (nf - 1).bit_length()))
        out = self.o_count * self.out_bits
        asm = (nf - 1) * pe * self.out_bits
        return k * eb + 1 + counters + simd * eb + weight_reg + tree + flags + pe * acc + asm + out + 1

    @property
    def memory_bits(self) -> int:
        return 0 if self.weight_style == "wired" else self.nf * self.sf * self.pe * self.simd

    @property
    def weight_style(self) -> str:
        """Where the weights live: ``"block"`` RAM, ``"logic"`` (a table in LUTs) or ``"wired"``."""
        depth = self.nf * self.sf
        if self.mode == "constant":
            return "wired" if depth == 1 else "logic"
        return memory_style(depth, self.pe * self.simd, read_only=True)

    def _term_width(self):
        if self.in_bits == 0:
            return 1
        return self.in_bits + 1  # +x or -x of a k-bit value

    def _tree(self):
        return AdderTree(self.simd, self._term_width(), signed_terms=self.in_bits > 0, reg_every=self.reg_every)

    def weight_words(self):
        """The weight memory image: word ``g * sf + s`` holds, for PE ``p``, bits
        ``[p*simd, (p+1)*simd)`` = weights of channel ``g*pe + p``, inputs ``[s*simd, (s+1)*simd)``."""
        w = self.weights.reshape(self.nf, self.pe, self.sf, self.simd).transpose(0, 2, 1, 3)
        flat = w.reshape(self.nf * self.sf, self.pe * self.simd)
        return [int.from_bytes(np.packbits(row, bitorder="little").tobytes(), "little") for row in flat]

    def acc_range(self):
        """Bounds of the hardware accumulator (popcount or signed sum) over every reachable input."""
        if self.in_bits == 0:
            return 0, self.k
        eb = self.in_bits
        lo, hi = (-(2 ** (eb - 1)), 2 ** (eb - 1) - 1) if self.in_signed else (0, 2**eb - 1)
        m = max(abs(lo), abs(hi))
        return -m * self.k, m * self.k

    # -- hardware ------------------------------------------------------------------------------
    def elaborate(self, platform):
        m = Module()
        k, pe, simd, nf, sf, eb = self.k, self.pe, self.simd, self.nf, self.sf, self.element_bits
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
        words = self.weight_words()
        wword = Signal(pe * simd)
        if depth == 1 and self.mode == "constant":
            m.d.comb += wword.eq(words[0])  # hard-wired: XNOR with a constant folds into the tree
        else:
            # a constant-mode layer that is folded keeps its weights as a table in logic; a memory-
            # mode layer in block RAM, or in logic when it is small (see memory_style)
            style = self.weight_style
            m.submodules.weights = mem = Memory(shape=pe * simd, depth=depth, init=words,
                                                attrs={"rom_style": style, "ram_style": style})
            rp = mem.read_port()
            m.d.comb += [rp.addr.eq(addr), rp.en.eq(en), wword.eq(rp.data)]

        # -- XNOR / add-subtract + adder trees, one per PE
        lat = self.tree_latency
        counts = []
        for p in range(pe):
            m.submodules[f"tree{p}"] = tree = self._tree()
            wbits = Signal(simd, name=f"w{p}")
            m.d.comb += [wbits.eq(wword[p * simd:(p + 1) * simd]), tree.en.eq(en)]
            if self.in_bits == 0:
                xnor = Signal(simd, name=f"xnor{p}")
                m.d.comb += [xnor.eq(~(wx ^ wbits)), tree.terms.eq(xnor)]
            else:
                tw = self._term_width()
                terms = []
                for j in range(simd):
                    xe = Signal(signed(tw), name=f"x{p}_{j}")
                    raw = wx[j * eb:(j + 1) * eb]
                    m.d.comb += xe.eq(raw.as_signed() if self.in_signed else raw)
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
        lo, hi = self.acc_range()
        acc_shape = signed(max(hi.bit_length(), (-lo - 1).bit_length()) + 1) if lo < 0 else unsigned(hi.bit_length())
        results = []
        for p in range(pe):
            acc = Signal(acc_shape, name=f"acc{p}")
            total = Signal(acc_shape, name=f"total{p}")
            m.d.comb += total.eq(Mux(afirst, 0, acc) + counts[p])
            with m.If(en & av):
                m.d.sync += acc.eq(total)
            results.append(self._finish(m, p, total, ag))
        group_bits = pe * self.out_bits
        group = Signal(group_bits)
        m.d.comb += group.eq(Cat(*results))

        completing = Signal()
        m.d.comb += completing.eq(av & alast & (ag == nf - 1))
        m.d.comb += en.eq(~(self.o.valid & ~self.o.ready & completing))
        with m.If(self.o.ready):
            m.d.sync += self.o.valid.eq(0)
        if nf > 1:
            asm = Signal((nf - 1) * group_bits)
            with m.If(en & av & alast & (ag != nf - 1)):  # groups arrive in order: shift in at the top
                m.d.sync += asm.eq(Cat(asm[group_bits:], group) if nf > 2 else group)
            payload = Cat(asm, group)
        else:
            payload = group
        with m.If(en & completing):
            m.d.sync += [self.o.valid.eq(1), self.o.payload.eq(payload)]
        return m

    def _finish(self, m, p, total, g):
        """Output element of PE ``p`` for group ``g`` from its accumulator total."""
        nf, pe = self.nf, self.pe
        chans = [gi * pe + p for gi in range(nf)]
        if self.thresholds is not None:
            bit = Signal(name=f"bit{p}")
            lo, hi = self.acc_range()
            tw = max(int(lo).bit_length(), int(hi + 2).bit_length(), int(self.thresholds.max()).bit_length(),
                     int(-self.thresholds.min()).bit_length()) + 2
            ts = [Const(int(self.thresholds[c]), signed(tw)) for c in chans]
            ups = [Const(int(self.directions[c] > 0), 1) for c in chans]
            t = ts[0] if nf == 1 else Array(ts)[g]
            up = ups[0] if nf == 1 else Array(ups)[g]
            m.d.comb += bit.eq(Mux(up, total >= t, total <= t))
            return bit
        score = Signal(signed(self.out_bits), name=f"score{p}")
        dot = 2 * total - self.k if self.in_bits == 0 else total
        biases = [Const(int(self.score_bias[c]), signed(self.out_bits)) for c in chans]
        bias = biases[0] if nf == 1 else Array(biases)[g]
        m.d.comb += score.eq((dot if self.score_sign > 0 else -dot) + bias)
        return score
