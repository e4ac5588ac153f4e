"""Per-component resource models: what each RTL component costs, from its parameters alone.

Each model returns LUT *features* (quantities whose cost per unit is fitted per family, see
:mod:`hw.estimate.calibrate`) and the *structural* counts that follow from the design exactly:
flip-flop bits, block RAM units, distributed-RAM cells. The derivations:

MVTU (matrix-vector-threshold unit, ``hw/rtl/mvtu.py``), per unit of folding PE x SIMD:

* ``rotate``: K x element-bits. With more than one chunk per vector (SF > 1) every bit of the
  rotating input register chooses between loading and rotating: one 2:1 mux (a LUT) per bit.
* ``xnor_var`` / ``xnor_const``: PE x SIMD for binary inputs. Each weight-input pair is an XNOR
  feeding a popcount tree; a popcount of n bits costs about n LUTs in a balanced adder tree (each
  level halves the operands and adds a bit). With constant weights (one cycle per vector) the
  XNOR is an inverter that folds into the tree, so it gets its own, smaller coefficient.
* ``addsub_var`` / ``addsub_const``: PE x SIMD x (k + 1) for k-bit inputs: a negation/select
  per term and an adder tree over (k+1)-bit terms, about one LUT per term bit.
* ``rom``: PE x SIMD x ceil(depth / 2^L) for weights kept in logic (a constant-mode layer with
  more than one chunk, or a memory of at most 64 words): an L-input LUT holds 2^L words of one bit.
* ``acc``: PE x accumulator bits: the accumulate adder plus the threshold compare (or score add).
* ``thr_mux``: PE x accumulator bits x log2(NF) when NF > 1: per-group threshold selection.
* ``base``: counters and handshake logic.

SlidingWindow: ``pad`` = pixel bits when padded (input or border value), ``steps`` = the row/column
flag tables and counters (log of the padded size); the line buffer is registers, which Yosys maps
to SRL shift registers on xc7 (``srl``: for each gap between taps, ceil(length / 32) per bit).
OrReduce: ``or`` = channels x ceil((pixels - 1) / (L - 1)). ArgMax: ``cmp`` = (classes - 1) x
(2 x score bits + class bits). SkidBuffer: ``mux`` = width. Gather, StreamFIFO: ``base`` only (plus
their memory). Block RAM: each memory packed into the family's unit shapes, the best shape for
the whole memory (exact, as Yosys maps a ``ram_style="block"`` memory). Distributed RAM: xc7
RAM64M cells hold 64 x 3 bits (RAM32M 32 x 6), ECP5 TRELLIS_DPR16X4 16 x 4.
"""

import math

from ..rtl.argmax import ArgMax
from ..rtl.gather import Gather
from ..rtl.jet_unit import JetUnit
from ..rtl.mst_unit import MSTUnit
from ..rtl.mvtu import MVTU
from ..rtl.or_reduce import OrReduce
from ..rtl.skid import SkidBuffer
from ..rtl.sliding_window import SlidingWindow
from ..rtl.stream_fifo import StreamFIFO

__all__ = ["lut_features", "structural", "bram_units", "tree_adder_bits", "KINDS"]

KINDS = ("MVTU", "JetUnit", "MSTUnit", "SlidingWindow", "OrReduce", "Gather", "StreamFIFO", "SkidBuffer", "ArgMax")


def bram_units(depth: int, width: int, fam) -> int:
    """Block RAM units for one ``depth x width`` memory: the best single unit shape."""
    return min(math.ceil(depth / d) * math.ceil(width / w) for d, w in fam.bram_shapes)


def _lutram_cells(depth, width, fam):
    if fam.name == "xc7":
        if depth <= 32:
            return math.ceil(width / 6)
        return math.ceil(depth / 64) * math.ceil(width / 3)
    if fam.name == "ecp5":
        return math.ceil(depth / 16) * math.ceil(width / 4)
    return 0


def tree_adder_bits(n: int, width: int) -> int:
    """Sum of the result widths of every adder in an AdderTree over ``n`` terms of ``width`` bits
    (mirrors its balanced pairing: a pair's sum is one bit wider than the wider operand)."""
    widths, total = [width] * n, 0
    while len(widths) > 1:
        nxt = []
        for j in range(0, len(widths), 2):
            if j + 1 < len(widths):
                nxt.append(max(widths[j], widths[j + 1]) + 1)
                total += nxt[-1]
            else:
                nxt.append(widths[j])
        widths = nxt
    return total


def _rom(words: int, bits: int, L: int) -> float:
    """LUTs of a read-only table of ``words`` x ``bits`` held in logic: an L-input LUT per 2^L words."""
    return float(bits * math.ceil(words / 2**L)) if words > 1 else 0.0


def lut_features(c, fam) -> dict:
    """LUT features of one component, named ``Kind.feature``; the cost of a unit of each is fitted
    per family (see the module docstring for the derivations)."""
    L = fam.lut_inputs
    kind = type(c).__name__
    f = {"base": 1.0}
    if isinstance(c, MVTU):
        k, pe, simd, nf, sf, eb = c.k, c.pe, c.simd, c.nf, c.sf, c.element_bits
        depth = nf * sf
        const_full = c.weight_style == "wired"
        in_logic = c.weight_style == "logic"
        f["rotate"] = float(k * eb if sf > 1 else 0)
        # a weight table in logic: an L-input LUT per 2^L words of each bit, then a read register
        f["rom"] = _rom(depth, pe * simd, L) if in_logic else 0.0
        if c.in_bits == 0:
            f["pop_const" if const_full else "pop_var"] = float(pe * tree_adder_bits(simd, 1))
        else:
            tw = c.in_bits + 1
            if const_full:
                f["int_const"] = float(pe * tree_adder_bits(simd, tw))
            else:
                f["int_sel"] = float(pe * simd * tw)  # -x, and the choice of x or -x
                f["int_var"] = float(pe * tree_adder_bits(simd, tw))
        lo, hi = c.acc_range()
        acc = max(int(hi).bit_length(), int(-lo).bit_length()) + 1
        f["score" if c.thresholds is None else "acc"] = float(pe * (c.out_bits if c.thresholds is None else acc))
        f["group_rom"] = _rom(nf, pe * (acc + 1), L) if nf > 1 else 0.0
    elif isinstance(c, MSTUnit):
        deltas = c.deltas()
        pw = c.k.bit_length() + 1
        f["pop"] = float(sum(tree_adder_bits(max(1, len(d)), 1) for d in deltas))
        f["chain"] = float(sum(1 for p in c.schedule.parents if p >= 0) * pw)
        f["cmp"] = float(c.o_count * pw)
    elif isinstance(c, JetUnit):
        xw = max(2, c.element_bits + 1)
        f["jets"] = float(c.channels * 15 * (xw + 3 + c.jet_width))  # row then column filters, per channel
        f["select"] = float(c.pe * c.terms * c.jet_width if c.nf > 1 else 0)
        f["tree"] = float(c.pe * tree_adder_bits(c.terms, c.jet_width))
        f["acc"] = float(c.pe * c.acc_bits)
    elif isinstance(c, SlidingWindow):
        f["pad"] = float(c.pixel_bits if any(c.pads) else 0)
        f["tables"] = float(math.ceil(c.hp / 2**L) + math.ceil(c.wp / 2**L))
    elif isinstance(c, OrReduce):
        f["or"] = float(c.channels * math.ceil((c.pixels - 1) / (L - 1)))
    elif isinstance(c, ArgMax):
        f["cmp"] = float((c.classes - 1) * (2 * c.score_width + c.class_bits))
    elif isinstance(c, SkidBuffer):
        f["mux"] = float(c.width)
    elif isinstance(c, StreamFIFO):
        # distributed RAM reads through a (depth / 16):1 mux per bit (ECP5 16-word cells; xc7 64)
        cell = 64 if fam.name == "xc7" else 16
        f["dist_mux"] = float(c.width * (math.ceil((c.depth - 1) / cell) - 1) if c.style == "distributed" else 0)
        f["dist_bits"] = float(c.width if c.style == "distributed" else 0)
        f["pointers"] = float((c.depth - 1).bit_length())
    elif not isinstance(c, Gather):
        raise TypeError(f"no resource model for {kind}")
    return {f"{kind}.{name}": v for name, v in f.items() if v}


def structural(c, fam) -> dict:
    """Exact structural counts: register bits, block RAM units, distributed RAM cells, SRL cells."""
    out = {"ff": float(c.register_bits), "bram": 0, "lutram": 0, "srl": 0}
    if isinstance(c, MVTU) and c.weight_style == "block":
        out["bram"] = bram_units(c.nf * c.sf, c.pe * c.simd, fam)
    if isinstance(c, MVTU) and c.weight_style == "logic":
        out["ff"] += c.pe * c.simd  # the table's read register
    if isinstance(c, StreamFIFO):
        depth = c.depth - 1
        if c.style == "block":
            out["bram"] = bram_units(depth, c.width, fam)
        else:
            out["lutram"] = _lutram_cells(depth, c.width, fam)
            out["ff"] += c.width  # a distributed RAM's read data needs its own register
    if isinstance(c, SlidingWindow) and fam.srl_cells:
        kh, kw = c.kernel
        gap = c.wp - kw  # pixels between the last tap of one window row and the first of the next
        if kh > 1 and gap >= 2:
            cells = (kh - 1) * math.ceil(gap / 32) * c.pixel_bits
            out["srl"] = cells
            out["ff"] -= (kh - 1) * gap * c.pixel_bits
    return out
