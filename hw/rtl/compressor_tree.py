from amaranth import Cat, Const, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..plan.popcount import INV, LANE, CompressorTreePlan, PopcountStyle
from .adder_tree import AdderTree

__all__ = ["CompressorTree"]


class CompressorTree(wiring.Component):
    """Pipelined popcount of ``n`` XNOR lanes, built from its
    :class:`~hw.plan.popcount.CompressorTreePlan`: the compressor tree of the plan's stages (LUT
    counters and carry-chain segments), or (``style="tree"``) the XNOR bits into an
    :class:`~hw.rtl.adder_tree.AdderTree`.

    Each LUT of a counter or of a carry-chain group is written as its truth table indexed by its
    input signals (a constant shifted right by the index), not with ``+``: Yosys would merge an
    addition of bits into a ``$macc`` and map it to an adder tree of its own. A carry chain is one
    ``A + B + cin``: the raw operands form ``A`` (the plan keeps that row narrower than ``B``, so
    ``alumacc`` makes it the chain's DI operand), the group bits and plain wires ``B``, and the
    one-bit ``cin`` becomes the ``$alu``'s carry-in; ABC then merges each group bit into the LUT
    that computes its position's propagate. The heap after each stage is a named signal, so the
    Verilog stays linear in ``n``. Every register loads only when ``en`` is high, so a stall
    freezes the whole tree.

    Members
    -------
    x : ``In(n)``
        The lanes' inputs.
    w : ``In(n)``
        The lanes' weights; only with variable weights (the plan's ``weights`` is ``None``).
    en : ``In(1)``
        Pipeline enable.
    count : ``Out(out_width)``
        The number of lanes with ``x_i == w_i``, ``latency`` cycles (enabled edges) after its lanes.
    """

    def __init__(self, plan: CompressorTreePlan):
        self.plan = plan
        ports = {"x": In(plan.n), "en": In(1), "count": Out(plan.out_width)}
        if plan.variable:
            ports["w"] = In(plan.n)
        super().__init__(ports)

    def elaborate(self, platform):
        m = Module()
        p = self.plan
        if p.style == PopcountStyle.TREE:
            xnor = Signal(p.n)
            w = self.w if p.variable else Const(int.from_bytes(_packbits(p.weights), "little"), p.n)
            m.d.comb += xnor.eq(~(self.x ^ w))
            m.submodules.tree = tree = AdderTree(p.tree)
            m.d.comb += [tree.terms.eq(xnor), tree.en.eq(self.en), self.count.eq(tree.sum)]
            return m

        # stage 0 reads the lanes: a wire (weight 1), an inversion (weight 0), or an (x, w) pair
        def lane(i):
            kind = p.lane_kinds[i]
            if kind == LANE:
                return [self.x[i], self.w[i]], lambda b: 1 - (b[0] ^ b[1])
            if kind == INV:
                return [self.x[i]], lambda b: 1 - b[0]
            return [self.x[i]], lambda b: b[0]

        source = lane
        heap = None
        for d, stage in enumerate(p.stages):
            outs = []
            for j, ctr in enumerate(stage.counters):
                ins = [(off, *source(i)) for off, i in ctr.inputs]
                bits = Signal(ctr.width, name=f"s{d}_c{j}")
                for k in range(ctr.width):
                    m.d.comb += bits[k].eq(_lut(ins, k))
                outs.append(bits)
            for j, chain in enumerate(stage.chains):
                outs.extend(self._chain(m, f"s{d}_k{j}", chain, source))
            for i in stage.passthrough:
                sigs, fn = source(i)
                outs.append(sigs[0] if fn([1]) == 1 else ~sigs[0])
            nxt = Signal(len(stage.out_columns), name=f"h{d}")
            if stage.registered:
                with m.If(self.en):
                    m.d.sync += nxt.eq(Cat(*outs))
            else:
                m.d.comb += nxt.eq(Cat(*outs))
            heap = nxt
            source = (lambda h: lambda i: ([h[i]], lambda b: b[0]))(heap)
        if heap is None:  # one lane of weight 1: the lane is its count
            m.d.comb += self.count.eq(self.x)
            return m
        columns = p.stages[-1].out_columns
        m.d.comb += self.count.eq(Cat(*[heap[columns.index(c)] if c in columns else Const(0, 1)
                                        for c in range(p.out_width)]))
        return m

    @staticmethod
    def _chain(m, name, chain, source):
        """One carry chain: its segments side by side, each later one after a separator position
        whose two operands are that segment's carry-in (``c + c`` ends the carry of the segment
        before and carries ``c`` on). Returns every segment's result bits."""
        zero = Const(0, 1)
        a_row, b_row, starts = [], [], []

        def wire(i):
            sigs, fn = source(i)
            return sigs[0] if fn([1]) == 1 and len(sigs) == 1 else _lut([(0, sigs, fn)], 0)

        cin0 = zero
        for k, seg in enumerate(chain):
            cin = wire(seg.cin) if seg.cin is not None else zero
            if k == 0:
                cin0 = cin
            else:
                a_row.append(cin)
                b_row.append(cin)
            starts.append(len(a_row))
            group_bits = {}
            for g, grp in enumerate(seg.groups):
                ins = [(0, *source(i)) for i in grp.inputs]
                bits = Signal(grp.width, name=f"{name}_g{k}_{g}")
                for j in range(grp.width):
                    m.d.comb += bits[j].eq(_lut(ins, j))
                    group_bits[grp.position + j] = bits[j]
            for pos in range(seg.positions):
                a_row.append(wire(seg.a[pos]) if seg.a[pos] is not None else zero)
                b = seg.b[pos]
                b_row.append(wire(b) if b is not None else group_bits.get(pos, zero))
        width = len(a_row) + chain[-1].width - chain[-1].positions
        a = Signal(len(a_row), name=f"{name}_a")
        b = Signal(len(b_row), name=f"{name}_b")
        y = Signal(width, name=f"{name}_y")
        m.d.comb += [a.eq(Cat(*a_row)), b.eq(Cat(*b_row)), y.eq(a + b + cin0)]
        return [y[starts[k]:starts[k] + seg.width] for k, seg in enumerate(chain)]


def _lut(ins, j):
    """Bit ``j`` of ``sum(2**offset * fn(bits))`` over ``ins`` = ``[(offset, signals, fn)]``, as a
    truth table indexed by the signals (one LUT when they fit)."""
    sigs = [s for _, ss, _ in ins for s in ss]
    table = 0
    for idx in range(1 << len(sigs)):
        total, at = 0, 0
        for off, ss, fn in ins:
            total += fn([(idx >> (at + q)) & 1 for q in range(len(ss))]) << off
            at += len(ss)
        table |= ((total >> j) & 1) << idx
    if len(sigs) == 1 and table == 0b10:
        return sigs[0]
    return (Const(table, 1 << len(sigs)) >> Cat(*sigs))[0]


def _packbits(bits):
    out = bytearray((len(bits) + 7) // 8)
    for i, b in enumerate(bits):
        out[i // 8] |= int(b) << (i % 8)
    return bytes(out)
