"""The popcount of ``n`` XNOR lanes as a compressor tree mapped to a family's LUTs and carry chains
(built by :class:`hw.rtl.compressor_tree.CompressorTree`), or as the balanced adder tree.

The tree works on a *bit heap*: columns of bits, a bit in column ``c`` weighing ``2**c``. The lanes
``XNOR(x_i, w_i)`` start in column 0. Each stage applies *compressors* to the heap of the stage
before; every bit a stage does not consume passes through. Two kinds of compressor:

* :class:`Counter`, a generalized parallel counter (GPC) in LUTs: bit ``j`` of the weighted count of
  its inputs is one LUT, so it takes at most ``lut_inputs`` input signals. In the first stage a lane
  with a variable weight is two signals (``x_i``, ``w_i``): a LUT6 counts three lanes into two bits.
  A constant weight of 0 is an inversion folded into the LUT's function.
* :class:`Segment`, an addition ``A + B + cin`` on the carry chain (Yosys maps ``$alu`` cells to
  CARRY4 on xc7, CCU2C on ECP5, SB_CARRY on iCE40). Position ``p`` adds ``a_p + b_p`` at weight
  ``2**p``; ``a_p`` and ``cin`` must be wires (the chain's DI and carry-in inputs), ``b_p`` a wire or
  one bit of a *group*: the count of up to ``lut_inputs - 1`` bits of one column. On xc7 the carry
  chain's propagate ``a_p ^ b_p`` is a LUT6, and ABC merges the group's count bit into it: a group
  of five bits, ``cin`` and ``a_0`` (seven bits of one column) become three bits in three LUTs
  and a CARRY4 (``+(7;3)``, 1.33 bits removed per LUT where a 6:3 counter removes one); with
  ``a_1, a_2`` and a wire ``b_3`` it is ``+(1,1,1,7;5)``, 1.67 per LUT, the carry-chain GPCs of
  Kumm & Zipf (FPL 2014; our shapes are ours). Yosys's ``alumacc`` orders an addition's operands
  by width (then chunk count, then a hash), and the first becomes DI: the raw row must be strictly
  narrower than B, or the group bits become DI and cost a LUT each -- hence the wire ``b_3``
  (a position without a LUT) beside ``a_2``, and no ``a_2`` without one. ECP5's CCU2C computes its
  propagate in its own LUT4s, so there a segment of wires costs no LUT4 at all (two LUT4 sites per
  CCU2C); Yosys maps a ``$alu`` of at most four bits to LUTs instead, so ECP5 packs short segments
  into one carry chain, each after a *separator* position whose two operands are the next
  segment's carry-in (``c + c`` leaves the previous carry-out as that position's sum and carries
  ``c`` on).

Every LUT is described as a truth table (see the component), never with ``+``: Yosys would merge an
addition of bits into a ``$macc`` and build its own adder tree. What Yosys 0.70 and ABC make of it
is :attr:`CompressorTreePlan.luts`: measured with ``reg_every = 2`` for n = 16 ... 4096, xc7 within
1% everywhere (that needs the register after the lane counters, :attr:`Target.register_lanes`),
ECP5 exact up to n = 144 and up to 8% more LUT4 (and 1% fewer CCU2C) above, where Yosys merges
the last stages' consecutive unregistered additions; with a register after every stage, exact.

Schedule (a greedy heuristic after Kumm & Zipf, "Pipelined compressor tree optimization using
integer linear programming", FPL 2014, and Parandeh-Afshar, Brisk & Ienne's GPC mapping, with the
heap's efficiency measure *bits removed per LUT*): each stage repeatedly places the compressor
that removes the most bits per LUT (on LUT4 families per LUT4 site, a CCU2C being two) among those
anchored at a column still higher than the final adder takes, until none removes at least one
bit per LUT (LUT6) or half a bit per site (LUT4). When every column holds at most two bits (three
in column 0, whose third is the carry-in) one carry-chain adder finishes the count.

Pipelining: a register follows every ``reg_every`` stages and a final register closes a partial
stage, so the latency is ``ceil(stages / reg_every)`` (``reg_every = 0``: combinational), as for
:class:`~hw.plan.tree.AdderTreePlan`; on xc7 with variable weights a register also follows the first
stage (see :attr:`Target.register_lanes`), and the count is ``1 + ceil((stages - 1) / reg_every)``.
Every register holds the whole heap between two stages.
"""

import bisect
import functools
from collections import Counter as _Tally
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

import numpy as np

from ..errors import BitfoldError
from .tree import AdderTreePlan

__all__ = ["PopcountStyle", "Popcount", "Target", "TARGETS", "Counter", "Group", "Segment", "Stage",
           "CompressorTreePlan"]


class PopcountStyle(StrEnum):
    """How a popcount is built: the balanced adder tree, or the compressor tree."""

    TREE = "tree"
    COMPRESSOR = "compressor"


@dataclass(frozen=True)
class Popcount:
    """How a design's binary units count bits: ``style`` (the compressor tree, the default, or the
    adder tree) and the ``family`` whose LUTs and carry chains the compressor trees are scheduled
    for (the Verilog of a compressor tree differs per family; it is correct on every one)."""

    style: PopcountStyle = PopcountStyle.COMPRESSOR
    family: str = "xc7"

    def __post_init__(self):
        if self.style not in tuple(PopcountStyle):
            raise BitfoldError(f"popcount must be 'tree' or 'compressor', not {self.style!r}")
        if self.family not in TARGETS:
            raise BitfoldError(f"no popcount schedule for family {self.family!r}; families: {', '.join(TARGETS)}")
        object.__setattr__(self, "style", PopcountStyle(self.style))

    def plan(self, n: int, weights=None, reg_every: int = 2) -> "CompressorTreePlan":
        """The popcount of ``n`` lanes (``weights``: constant bits, or None for variable ones)."""
        return CompressorTreePlan(n, weights, self.family, reg_every, self.style)

    def to_dict(self) -> dict:
        return {"style": str(self.style), "family": self.family}


@dataclass(frozen=True)
class Target:
    """How a family's cells take a compressor tree (the facts the schedule and its cost rest on).

    ``lut_inputs``: LUT size. ``merge``: a carry-chain position's propagate is a fabric LUT that ABC
    merges with the logic before it (xc7: ``a_p ^ group bit`` is one LUT6); otherwise the propagate
    lives in the carry cell and a group bit is a LUT of its own. ``chain_min``: the narrowest sum
    Yosys maps to carry cells (``$alu`` techmap: xc7 ``Y_WIDTH > 2``, ECP5 ``> 4``, iCE40 ``> 2``);
    narrower sums become LUTs. ``chain_luts``: every chain position costs a LUT (iCE40's SB_CARRY
    needs an SB_LUT4 for its sum). ``site``: LUT sites of one carry cell position (ECP5: a CCU2C
    fills two LUT4 sites with its two positions). ``pack``: several segments share a chain.
    ``max_chain``: positions per packed chain (keeps the carry path of a stage short).
    ``register_lanes``: with variable weights a register always follows the lanes' counters (when
    the tree is pipelined at all): on xc7 ABC otherwise remaps them together with the next stage's
    XOR-rich LUTs into more, smaller LUTs (measured n = 144: 250 LUTs instead of 215).
    ``table_words``: the deepest weight table in logic that is read combinationally with each
    lane's XNOR folded into the table's LUTs (deeper tables are read into a register and the XNOR
    goes into the counters). Measured on a 4x256-lane unit (16 and 64 words), Yosys 0.70: xc7
    2.92 -> 2.20 and 5.05 -> 3.00 LUT per lane, flip-flops 2441 -> 870. ECP5: 2.16 -> 2.12 and
    6.3 -> 7.7 LUT per lane, and Fmax 118 -> 82 MHz (nextpnr: the address register's fan-out to
    every lane becomes the critical net), so LUT4 families keep the read register (0 words).
    ``bram_read_registers``: registers after a weight block RAM's read (see
    :attr:`hw.plan.mvtu.MVTUPlan.weight_read_registers`; ECP5's DP16KD as Yosys maps it takes
    5.8 ns from clock to data). None on xc7, for every block RAM unit: a register per weight bit
    was most of the flip-flops of wide layers (``lfc``'s default, 2 x 1024 lanes per layer:
    26,593 -> 18,067 flip-flops, LUTs 11,977 -> 11,993), and a binary lane's weight, its lanes'
    counters registered (``register_lanes``), passes one LUT before a register (an integer
    layer's passes its +x/-x choice and the adders up to the tree's first register; no open flow
    measures xc7 timing).
    """

    lut_inputs: int
    merge: bool
    chain_min: int
    chain_luts: bool = False
    site: float = 0.0
    pack: bool = False
    max_chain: int = 8
    register_lanes: bool = False
    table_words: int = 0
    bram_read_registers: int = 1


TARGETS = {
    "xc7": Target(6, merge=True, chain_min=3, register_lanes=True, table_words=64, bram_read_registers=0),
    "ecp5": Target(4, merge=False, chain_min=5, site=1.0, pack=True, bram_read_registers=2),
    "ice40": Target(4, merge=False, chain_min=3, chain_luts=True),
}

# kinds of heap bits: a wire (a signal of the previous stage), an inverted input lane (constant
# weight 0: ~x), a lane with a variable weight (XNOR(x, w): two signals)
WIRE, INV, LANE = "wire", "inv", "lane"


@dataclass(frozen=True)
class Counter:
    """A GPC in LUTs at ``column``: ``inputs`` are ``(column offset, heap index)`` pairs; output bit
    ``j`` (column ``column + j``) is bit ``j`` of ``sum(2**offset * bit)``, one LUT each."""

    column: int
    inputs: tuple
    width: int

    @property
    def shape(self) -> str:
        """GPC notation, most significant column first: ``6:3``, ``(1,5;3)``."""
        t = _Tally(off for off, _ in self.inputs)
        cols = [t.get(k, 0) for k in range(max(t) + 1)]
        return f"{cols[0]}:{self.width}" if len(cols) == 1 else f"({','.join(map(str, cols[::-1]))};{self.width})"


@dataclass(frozen=True)
class Group:
    """The count of ``inputs`` (heap indices, all in the column of ``position``) as ``width`` bits of
    the chain's B operand, at positions ``position`` .. ``position + width - 1``."""

    position: int
    inputs: tuple
    width: int


@dataclass(frozen=True)
class Segment:
    """``A + B + cin`` at ``column`` (logical column of position 0), ``width`` result bits.

    ``a``, ``b``: per position a heap index or ``None`` (``b`` is ``None`` where a group's bit sits);
    ``cin``: a heap index or ``None``; ``groups``: :class:`Group` s.
    """

    column: int
    a: tuple
    b: tuple
    cin: int | None
    groups: tuple
    width: int

    @property
    def positions(self) -> int:
        return len(self.a)

    @property
    def inputs(self) -> tuple:
        ins = [i for i in self.a + self.b if i is not None] + [i for g in self.groups for i in g.inputs]
        return tuple(ins + ([self.cin] if self.cin is not None else []))

    @property
    def shape(self) -> str:
        """GPC notation of the columns it takes, with ``+`` for a carry-chain compressor."""
        cols = [0] * self.positions
        for p in range(self.positions):
            cols[p] += (self.a[p] is not None) + (self.b[p] is not None)
        for g in self.groups:
            cols[g.position] += len(g.inputs)
        cols[0] += self.cin is not None
        while len(cols) > 1 and cols[-1] == 0:
            cols.pop()
        return f"+({','.join(map(str, cols[::-1]))};{self.width})"


@dataclass(frozen=True)
class Stage:
    """One stage: its compressors over the heap before it (whose bits lie in ``in_columns``), the
    bits passing through, and whether a register follows. Its output heap is, in order: every
    counter's bits, every chain's segments' bits, the bits passing through."""

    in_columns: tuple
    in_kinds: tuple
    counters: tuple
    chains: tuple  # of tuples of Segments: the segments sharing one carry chain
    passthrough: tuple
    registered: bool
    final: bool = False

    @property
    def segments(self) -> tuple:
        return tuple(s for chain in self.chains for s in chain)

    @property
    def out_columns(self) -> tuple:
        cols = [c.column + j for c in self.counters for j in range(c.width)]
        cols += [s.column + j for s in self.segments for j in range(s.width)]
        return tuple(cols + [self.in_columns[i] for i in self.passthrough])


def _bits(v: int) -> int:
    return max(1, int(v).bit_length())


def _chain_width(chain) -> int:
    """Width of the ``$alu`` a packed chain is: its positions, a separator before every later
    segment, and the last segment's carry-out."""
    return sum(s.positions for s in chain) + len(chain) - 1 + (chain[-1].width - chain[-1].positions)


class _Heap:
    """Bits of one stage's input not yet taken by a compressor, by column and kind, each list in
    the order of the bits' *positions*: the mean lane index of the lanes a bit counts. A compressor
    takes its first bits from the front of its column and every other bit nearest to them, so it
    reads bits of neighbouring lanes: placement keeps it near its inputs, as an adder tree's adder
    is near its two operands (taking every column from its front instead cost ~10% Fmax on ECP5)."""

    def __init__(self, columns, kinds, positions=None):
        self.pos = positions if positions is not None else tuple(range(len(columns)))
        self.free = {}
        for i in sorted(range(len(columns)), key=lambda i: self.pos[i]):
            self.free.setdefault(columns[i], {WIRE: [], INV: [], LANE: []})[kinds[i]].append(i)
        self.near = None

    def count(self, c, kinds=(WIRE, INV, LANE)):
        col = self.free.get(c)
        if not col:
            return 0
        n = 0
        for k in kinds:  # the planner's innermost call: a loop, not sum() over a generator
            n += len(col[k])
        return n

    def take(self, c, k, prefer=(INV, WIRE)):
        """``k`` bits of column ``c``, kinds in the order of ``prefer``: the first bits of a
        compressor from the front, later ones nearest to the first (see :meth:`start`)."""
        col, out = self.free[c], []
        for kind in prefer:
            lst = col[kind]
            while lst and len(out) < k:
                j = 0
                if self.near is not None:
                    j = bisect.bisect_left(lst, self.near, key=lambda i: self.pos[i])
                    if j == len(lst) or j > 0 and self.near - self.pos[lst[j - 1]] <= self.pos[lst[j]] - self.near:
                        j -= 1
                out.append(lst.pop(j))
        if len(out) < k:
            raise AssertionError("took more bits than the column holds")
        if self.near is None:
            self.near = sum(self.pos[i] for i in out) / len(out)
        return out

    def start(self):
        """A new compressor: its first bits come from the front of their column."""
        self.near = None

    def columns(self):
        return sorted(c for c in self.free if self.count(c))


# per width ``pos`` of a carry-chain GPC's group count: every choice of raw operands a_0..a_{pos-1}
# as ``(mask, use_a, how many, the q >= 1 that need a wire of column c + q)``, in mask order
_MASKS = {pos: tuple((mask, use_a, sum(use_a), tuple(q for q in range(1, pos) if use_a[q]))
                     for mask in range(1 << pos) for use_a in [tuple(bool(mask >> q & 1) for q in range(pos))])
          for pos in range(1, 4)}


def _limit(c: int) -> int:
    """Bits a column may keep for the final adder: two, plus the carry-in in column 0."""
    return 3 if c == 0 else 2


class _Planner:
    """The greedy schedule of one compressor tree (see the module docstring)."""

    def __init__(self, target: Target, out_width: int = 64):
        self.t = target
        self.out_width = out_width  # no bit of the count lies above it, whatever a compressor's inputs

    # -- costs --------------------------------------------------------------------------------
    def counter_luts(self, n_inputs, kinds, width) -> int:
        """A counter's LUTs: one per output bit, none for a bit that is a plain wire. Three lanes
        with variable weights (six inputs) are three cells on xc7, not two: Yosys's abc9 prices a
        LUT6 at 5 and a LUT5 at 3 (``cells_sim.v``: ``abc9_lut``), so where the counter has slack
        its area recovery takes one lane's XOR as a LUT2 and both count bits as LUT5s of it and
        the other two lanes (8 < 10; a pair of LUT5 on the same five inputs is one LUT6_2 site)."""
        if n_inputs == 1 and kinds == [WIRE]:
            return 0
        return width + (n_inputs == 3 and kinds == [LANE] * 3 and self.t.lut_inputs == 6)

    def chain_cost(self, chain, kinds) -> float:
        """LUTs of one carry chain, plus (LUT4 families with ``site``) the LUT sites of its carry
        cells. Inverted raw operands need an inverter each; a chain narrower than ``chain_min`` is
        LUT logic."""
        t = self.t
        width = _chain_width(chain)
        luts = 0.0
        for s in chain:
            inv = [i for i in (*s.a, s.cin) if i is not None and kinds[i] != WIRE]
            luts += len(inv)  # an inverted raw operand needs an inverter for the chain's DI / carry-in
            group_bits = sum(g.width for g in s.groups)
            if width < t.chain_min:  # Yosys maps it to LUTs: a sum and a carry per position on LUT4
                luts += s.width if t.merge else 2 * s.positions + group_bits
                continue
            if t.merge:  # xc7: a LUT6 per position whose propagate is not a single wire
                for p in range(s.positions):
                    ops = [s.a[p], s.b[p]]
                    grouped = any(g.position <= p < g.position + g.width for g in s.groups)
                    if grouped or sum(o is not None for o in ops) == 2 or any(
                            o is not None and kinds[o] != WIRE for o in ops):
                        luts += 1
            else:
                luts += group_bits + sum(1 for o in s.b if o is not None and kinds[o] != WIRE)
        if width >= t.chain_min:
            if t.chain_luts:  # a sum LUT per position with operands; the carry-out needs none
                luts += sum(s.positions for s in chain) + len(chain) - 1
            luts += t.site * 2 * -(-width // 2) if t.site else 0.0
        return luts

    # -- candidates at one column ---------------------------------------------------------------
    def candidates(self, heap: _Heap, c: int):
        """(bits removed, cost, builder) of every compressor anchored at column ``c``; a builder
        takes its bits from the heap and returns the compressor."""
        t, out = self.t, []
        L = t.lut_inputs
        lanes = heap.count(c, (LANE,))
        if lanes:  # variable weights: lanes enter LUTs as pairs
            k = min(lanes, L // 2)
            cost = float(self.counter_luts(k, [LANE] * k, _bits(k)))
            out.append((k - _bits(k), cost, lambda k=k: self._counter(heap, c, [(0, k)], prefer=(LANE,))))
            return out
        h = heap.count(c)
        wires = heap.count(c, (WIRE,))
        inv = h - wires
        # carry-chain GPCs: a group of g bits of column c, raw a_p from columns c + p, a carry-in, and
        # optionally a wire e of column c + P as B's top bit (a position without a LUT). Yosys's
        # alumacc orders an addition's operands by width (then chunk count, then a hash): the raw
        # row is the chain's DI operand only if it is strictly narrower than B.
        group_max = L - 1
        has_wire = [heap.count(c + q, (WIRE,)) >= 1 for q in range(_bits(group_max) + 1)] if t.merge else ()
        for g in range(2, min(group_max, h) + 1) if t.merge else ():
            pos = _bits(g)
            spare = wires - max(0, g - inv)  # wires left after the group took the inverted bits
            ext_ok = has_wire[pos]
            for use_cin in (True, False):
                if use_cin and spare < 1:
                    continue
                for mask, use_a, n_a, needs in _MASKS[pos]:  # a_q taken from column c + q where set
                    if use_a[0] and spare < 1 + use_cin:
                        continue
                    if not all(has_wire[q] for q in needs):
                        continue
                    use_e = use_a[-1]
                    if use_e and not ext_ok:
                        continue
                    top = g + mask + use_cin + (2**pos if use_e else 0)
                    removed = g + n_a + use_cin + use_e - _bits(top)
                    if removed > 0:
                        out.append((removed, float(pos), lambda g=g, use_a=use_a, use_cin=use_cin, use_e=use_e:
                                    self._gpc_chain(heap, c, g, use_a, use_cin, use_e)))
        # a row of full adders on the carry chain: two bits per column from c on, plus a carry-in
        k = 0
        while heap.count(c + k) >= 2:
            k += 1
        for use_cin in (True, False) if k else ():
            if use_cin and heap.count(c) < 3 or k - 1 + use_cin <= 0:
                continue
            out.append((k - 1 + use_cin, self.row_cost(heap, c, k, use_cin),
                        lambda k=k, use_cin=use_cin: self._row(heap, c, k, use_cin)))
        # counters in LUTs
        for shape in ([(0, 6)], [(0, 5), (1, 1)], [(0, 3)]) if L == 6 else ([(0, 3)],):
            if all(heap.count(c + off) >= k for off, k in shape):
                top = sum(k << off for off, k in shape)
                ins = sum(k for _, k in shape)
                out.append((ins - _bits(top), float(_bits(top)), lambda s=shape: self._counter(heap, c, s)))
        return out

    # -- builders ---------------------------------------------------------------------------------
    def _counter(self, heap, c, shape, prefer=(INV, WIRE)):
        heap.start()
        ins = tuple((off, i) for off, k in shape for i in heap.take(c + off, k, prefer))
        return Counter(c, ins, _bits(sum(k << off for off, k in shape)))

    def _gpc_chain(self, heap, c, g, use_a, use_cin, use_e):
        heap.start()
        group = tuple(heap.take(c, g, (INV, WIRE)))
        pos = len(use_a)
        a = tuple(heap.take(c + q, 1, (WIRE,))[0] if u else None for q, u in enumerate(use_a))
        cin = heap.take(c, 1, (WIRE,))[0] if use_cin else None
        b = (None,) * pos
        top = g + sum(2**q for q, u in enumerate(use_a) if u) + use_cin
        if use_e:
            a, b, top = a + (None,), b + (heap.take(c + pos, 1, (WIRE,))[0],), top + 2**pos
        return Segment(c, a, b, cin, (Group(0, group, pos),), _bits(top))

    def _row(self, heap, c, k, use_cin):
        heap.start()
        a, b = [], []
        for p in range(k):
            a.append(heap.take(c + p, 1, (WIRE, INV))[0])
            b.append(heap.take(c + p, 1, (INV, WIRE))[0])
        cin = heap.take(c, 1, (WIRE, INV))[0] if use_cin else None
        return Segment(c, tuple(a), tuple(b), cin, (), k + 1)

    def row_cost(self, heap, c, k, use_cin) -> float:
        """Cost of :meth:`_row` before it takes its bits: LUTs (xc7: a LUT6 per position, an
        inverter per inverted DI or carry-in), or LUT sites (a packed chain: its positions and one
        separator; an inverter per inverted operand)."""
        t = self.t
        inv_raw = inv_b = 0
        for p in range(k):
            wires = heap.count(c + p, (WIRE,))
            inv_raw += wires == 0  # a takes a wire when there is one
            inv_b += heap.count(c + p, (INV,)) >= 1 or wires < 2
        if use_cin:
            inv_raw += heap.count(c, (WIRE,)) < 3 - min(1, heap.count(c, (INV,)))
        if t.merge:
            return float(k + inv_raw) if k + 1 >= t.chain_min else float(k + 1 + inv_raw)
        if t.chain_luts:
            return float(k + inv_raw + inv_b) if k + 1 >= t.chain_min else 2.0 + inv_raw + inv_b
        return (k + 1) * t.site + inv_raw + inv_b

    # -- stages -----------------------------------------------------------------------------------
    def stage(self, columns, kinds, positions):
        heap = _Heap(columns, kinds, positions)
        counters, segments = [], []
        floor = 1.0 if self.t.merge else 0.5
        for f in (floor, 0.0):  # if nothing efficient fits, anything that removes a bit
            for c in heap.columns():
                while heap.count(c) > _limit(c) or heap.count(c, (LANE,)):
                    best = None
                    for removed, cost, build in self.candidates(heap, c):
                        key = (removed / cost if cost else float("inf"), removed)
                        if best is None or key > best[0]:
                            best = (key, build)
                    if best is None or (best[0][0] < f or best[0][1] <= 0) and not heap.count(c, (LANE,)):
                        break
                    made = best[1]()
                    (counters if isinstance(made, Counter) else segments).append(made)
            if counters or segments:
                break
        # inverted lanes left over become wires here: an inverter each
        for c in heap.columns():
            while heap.count(c, (INV,)):
                counters.append(self._counter(heap, c, [(0, 1)], prefer=(INV,)))
        passthrough = tuple(i for c in heap.columns() for k in (WIRE,) for i in heap.free[c][k])
        chains = self.pack(segments, positions)
        return counters, chains, passthrough

    def pack(self, segments, positions):
        """Segments into carry chains: one each, or (``pack``) neighbours (by position) side by
        side, separated by one position each, closing a chain once it is at least ``chain_min``
        wide and the next segment would make it wider than ``max_chain``; a last chain too narrow
        for carry cells joins the one before."""
        if not self.t.pack:
            return tuple((s,) for s in segments)
        chains, cur = [], []
        for s in sorted(segments, key=lambda s: sum(positions[i] for i in s.inputs) / len(s.inputs)):
            if cur and _chain_width(cur) >= self.t.chain_min and _chain_width((*cur, s)) > self.t.max_chain:
                chains.append(tuple(cur))
                cur = []
            cur.append(s)
        if cur:
            if chains and _chain_width(cur) < self.t.chain_min:
                cur = [*chains.pop(), *cur]
            chains.append(tuple(cur))
        return tuple(chains)

    def final(self, columns, kinds):
        """The carry-chain adder over two rows and a carry-in in column 0."""
        heap = _Heap(columns, kinds)
        top = max(columns)
        a, b = [], []
        for c in range(top + 1):
            n = heap.count(c)
            a.append(heap.take(c, 1, (WIRE, INV))[0] if n >= 1 else None)
            b.append(heap.take(c, 1, (INV, WIRE))[0] if n >= 2 else None)
        cin = heap.take(0, 1, (WIRE, INV))[0] if heap.count(0) else None
        total = sum((2**c) * ((a[c] is not None) + (b[c] is not None)) for c in range(top + 1)) + (cin is not None)
        width = min(_bits(total), self.out_width)
        while len(a) > 1 and a[-1] is None and b[-1] is None:
            a.pop()
            b.pop()
        return Segment(0, tuple(a), tuple(b), cin, (), width)


def _out_positions(stage, positions) -> tuple:
    """Positions of a stage's output bits: each compressor's bits lie at the mean of its inputs'."""
    def mean(ins):
        return sum(positions[i] for i in ins) / len(ins)

    out = [mean([i for _, i in c.inputs]) for c in stage.counters for _ in range(c.width)]
    out += [mean(seg.inputs) for seg in stage.segments for _ in range(seg.width)]
    return tuple(out + [positions[i] for i in stage.passthrough])


def _done(columns, kinds) -> bool:
    return all(k == WIRE for k in kinds) and len(set(columns)) == len(columns)


def _final_ready(columns, kinds) -> bool:
    if any(k == LANE for k in kinds):
        return False
    t = _Tally(columns)
    return all(v <= _limit(c) for c, v in t.items())


@dataclass(frozen=True, eq=False)
class CompressorTreePlan:
    """The popcount of ``n`` lanes ``XNOR(x_i, w_i)``, as a compressor tree for one FPGA family, or
    (``style="tree"``) as the balanced adder tree over the XNOR bits.

    Parameters
    ----------
    n : int
        Lanes.
    weights : numpy.ndarray or None
        ``n`` constant weight bits (an XNOR with 0 is an inversion, folded into the first LUTs), or
        ``None`` for a variable weight input ``w``.
    family : str
        ``xc7`` (LUT6 and CARRY4), ``ecp5`` (LUT4 and CCU2C) or ``ice40`` (LUT4 and SB_CARRY).
    reg_every : int
        Stages per pipeline register (adder levels for the tree); 0: combinational.
    style : PopcountStyle
        ``compressor`` or ``tree``.
    """

    n: int
    weights: np.ndarray | None = None
    family: str = "xc7"
    reg_every: int = 2
    style: PopcountStyle = PopcountStyle.COMPRESSOR

    def __post_init__(self):
        if not isinstance(self.n, int) or isinstance(self.n, bool) or self.n < 1:
            raise BitfoldError(f"CompressorTree needs at least one lane, not {self.n!r}")
        if self.weights is not None:
            w = np.asarray(self.weights)
            if w.shape != (self.n,) or not np.isin(w, (0, 1)).all():
                raise BitfoldError(f"CompressorTree weights must be None (a variable weight input) or {self.n} "
                                   f"bits (0 or 1), not an array of shape {w.shape}")
            object.__setattr__(self, "weights", w.astype(np.uint8))
        if self.family not in TARGETS:
            raise BitfoldError(f"CompressorTree family must be one of {', '.join(TARGETS)}, not {self.family!r}")
        if not isinstance(self.reg_every, int) or isinstance(self.reg_every, bool) or self.reg_every < 0:
            raise BitfoldError(f"CompressorTree reg_every must be a non-negative integer, not {self.reg_every!r}")
        if self.style not in tuple(PopcountStyle):
            raise BitfoldError(f"CompressorTree style must be 'tree' or 'compressor', not {self.style!r}")
        object.__setattr__(self, "style", PopcountStyle(self.style))

    # -- interface shared by both styles --------------------------------------------------------
    @property
    def variable(self) -> bool:
        """Weights come from the ``w`` input (else they are constants)."""
        return self.weights is None

    @property
    def target(self) -> Target:
        return TARGETS[self.family]

    @property
    def out_width(self) -> int:
        return self.n.bit_length()

    @cached_property
    def tree(self) -> AdderTreePlan:
        """The balanced adder tree over the XNOR bits (``style="tree"``)."""
        return AdderTreePlan(self.n, 1, reg_every=self.reg_every)

    @property
    def latency(self) -> int:
        """Cycles (enabled edges) from the lanes to their count."""
        if self.style == PopcountStyle.TREE:
            return self.tree.latency
        return sum(s.registered for s in self.stages)

    @property
    def register_bits(self) -> int:
        """Flip-flops as elaborated: every registered stage holds its whole output heap."""
        if self.style == PopcountStyle.TREE:
            return self.tree.register_bits
        return sum(len(s.out_columns) for s in self.stages if s.registered)

    # -- the schedule ------------------------------------------------------------------------------
    @property
    def lane_kinds(self) -> tuple:
        if self.weights is None:
            return (LANE,) * self.n
        return tuple(WIRE if b else INV for b in self.weights.tolist())

    @cached_property
    def stages(self) -> tuple:
        """The compressor stages (``()`` for the adder tree). Schedules are cached by lanes,
        weights, family and pipelining: a design's estimate and its RTL ask for the same ones."""
        if self.style == PopcountStyle.TREE:
            return ()
        key = None if self.weights is None else self.weights.tobytes()
        return _schedule(self.n, key, self.family, self.reg_every)


    # -- what it costs (the estimator's features) ---------------------------------------------------
    def stage_luts(self, stage: Stage, chains: bool = True) -> float:
        """LUTs of one stage as the family maps it (LUT4 families: LUT4 cells, without carry
        cells); ``chains=False``: of its counters only."""
        planner = _Planner(TARGETS[self.family])
        kinds = stage.in_kinds
        luts = 0.0
        for c in stage.counters:
            luts += planner.counter_luts(len(c.inputs), [kinds[i] for _, i in c.inputs], c.width)
        for chain in stage.chains if chains else ():
            width = _chain_width(chain)
            cost = planner.chain_cost(chain, kinds)
            t = self.target
            if width >= t.chain_min and t.site:
                cost -= t.site * 2 * -(-width // 2)  # carry cells are not LUT4 cells
            luts += cost
        return luts

    @property
    def luts(self) -> float:
        """Predicted LUT cells (xc7: LUT1-6; ECP5 and iCE40: LUT4), if the mapping holds."""
        if self.style == PopcountStyle.TREE:
            raise BitfoldError("CompressorTree.luts is the compressor's prediction; the adder tree is "
                               "priced by the estimator's fitted costs")
        return float(sum(self.stage_luts(s) for s in self.stages))

    @property
    def carry_cells(self) -> int:
        """Carry cells: CARRY4 (four result bits), CCU2C (two), SB_CARRY (one per position: the
        carry-out of the last is a result bit without a cell)."""
        t = self.target
        chains = [ch for s in self.stages for ch in s.chains if _chain_width(ch) >= t.chain_min]
        if self.family == "ice40":
            return sum(sum(seg.positions for seg in ch) + len(ch) - 1 for ch in chains)
        per = {"xc7": 4, "ecp5": 2}[self.family]
        return sum(-(-_chain_width(ch) // per) for ch in chains)

    @property
    def shapes(self) -> dict:
        """Compressors by shape over all stages, e.g. ``{"+(1,1,7;4)": 12, "6:3": 1}``."""
        t = _Tally()
        for s in self.stages:
            t.update(c.shape for c in s.counters)
            t.update(seg.shape for seg in s.segments if not s.final)
        return dict(t)

    @property
    def final_adder_bits(self) -> int:
        """Positions of the final carry-chain adder."""
        return sum(seg.positions for s in self.stages if s.final for seg in s.segments)


@functools.lru_cache(maxsize=4096)
def _schedule(n: int, weights: bytes | None, family: str, reg_every: int) -> tuple:
    """The stages of :attr:`CompressorTreePlan.stages` (``weights``: the constant bits' bytes)."""
    target = TARGETS[family]
    planner = _Planner(target, n.bit_length())
    lanes = (LANE,) * n if weights is None else tuple(WIRE if b else INV for b in weights)
    columns, kinds, positions = (0,) * n, lanes, tuple(range(n))
    raw = []
    while not _done(columns, kinds):
        if _final_ready(columns, kinds):
            seg = planner.final(columns, kinds)
            counters, chains, passthrough = (), ((seg,),), ()
        else:
            counters, chains, passthrough = planner.stage(columns, kinds, positions)
        raw.append((columns, kinds, tuple(counters), tuple(chains), tuple(passthrough), not counters and
                    not passthrough and len(chains) == 1 and _final_ready(columns, kinds)))
        probe = Stage(columns, kinds, tuple(counters), tuple(chains), tuple(passthrough), False)
        columns, kinds = probe.out_columns, (WIRE,) * len(probe.out_columns)
        positions = _out_positions(probe, positions)
    out = []
    r = reg_every
    first = 1 if r and weights is None and target.register_lanes and len(raw) > 1 else 0
    for d, (cols, kinds_, counters, chains, passthrough, final) in enumerate(raw, 1):
        registered = bool(r) and (d == first or d > first and (d - first) % r == 0)
        out.append(Stage(cols, kinds_, counters, chains, passthrough, registered, final))
    if r and (len(raw) - first) % r:  # a final register closes a partial stage
        out.append(Stage(columns, kinds, (), (), tuple(range(len(columns))), True))
    return tuple(out)

