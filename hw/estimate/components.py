"""Per-unit resource models: what each hardware unit costs, from its plan (:mod:`hw.plan`) alone.

Each model returns LUT *features* (quantities whose cost per unit is fitted per family, see
:mod:`hw.estimate.fit`) and the *structural* counts that follow from the design exactly:
flip-flop bits, block RAM units, distributed-RAM cells. Features are named after the component
that builds the unit (``MVTU.rotate``). The derivations:

MVTU (matrix-vector-threshold unit, :class:`~hw.plan.mvtu.MVTUPlan`), per unit of folding PE x SIMD:

* ``rotate``: K x element-bits. With more than one chunk per vector (SF > 1) every bit of the
  rotating input register chooses between loading and rotating: one 2:1 mux (a LUT) per bit.
* ``lane_select``: PE x SIMD x element-bits when SF > 1: every lane's operand changes with the
  word of the vector being issued (from the rotating register or the chunk), so its path to the
  XNOR or the term select carries the issue's handshake: a share of a LUT per lane bit (fitted).
* ``buffer`` / ``buffer_lanes``: a buffered chunk input (the double-buffered input memory of a
  folded dense layer fed in chunks): the memory's read mux in LUT RAM cells per word, and the read
  chunk fanned out to the PE lanes (PE x chunk bits).
* ``table_xnor_2|8|32|64``: binary weights kept in logic up to the family's ``table_words`` (xc7)
  are read combinationally from a registered address: each lane's column and its XNOR are one
  function of the address and the input bit, the lanes counted per class of table depth (up to 2,
  8, 2^(L-1) and 64 words; a shallow table leaves room in the LUT for ABC to merge lanes into the
  first counters, a table deeper than 2^(L-1) words takes two LUTs); its popcounts take plain
  bits, priced as the hard-wired ones (``pc_const_*``, every PE).
* ``rom``: other weights kept in logic (a folded constant-mode layer, or a memory of at most 64
  words) are a table read into a register. Yosys merges identical columns (their registers have the
  same input) and a column that is constant or equal to an address bit needs no LUT, so the cost
  is the *distinct non-trivial* columns of the weight image (counted from the weights themselves)
  times ``ceil(depth / 2^L)`` L-input LUTs.
* ``pc_const_*`` / ``pc_var_*``: for binary inputs built with compressor trees (the default,
  :class:`~hw.plan.popcount.CompressorTreePlan`), the LUT cells of the PEs' schedules by kind
  (:func:`popcount_features`: ``lanes``, ``counters``, ``chain``, ``final``), hard-wired (distinct
  PEs only: Yosys merges identical ones) or variable weights. A schedule is priced for the family
  estimated (a design compiled for another family is priced as if compiled for this one).
  With adder trees (``--popcount tree``) the features below.
* ``xnor_var`` / ``xnor_rom`` and ``pop_var``: for binary inputs with weights from a register, PE
  x SIMD XNORs and the popcount trees' adder bits (``pe * tree_adder_bits(simd, 1)``); weights
  read from a table (``xnor_rom``) get their own cost, the table's address logic being merged
  differently by ABC.
* ``pop_const_l2`` / ``pop_const``: with hard-wired weights the XNOR is an inverter that folds
  into the tree, and the first two tree levels (up to the first pipeline register, four terms)
  depend only on four inputs and four weight bits: identical cones of different PEs are one
  circuit. ``pop_const_l2`` counts the adder bits of the *distinct* four-term cones, ``pop_const``
  the rest of every PE's tree. ``int_const_l2`` / ``int_const`` the same for k-bit inputs.
* ``int_sel`` / ``int_sel_rom`` and ``int_var``: k-bit inputs with variable weights choose x or
  -x per term; bit i of -x depends on the i + 1 lowest bits, so it costs
  ``sum_i ceil((i + 1) / (L - 1))`` LUTs per term; then an adder tree over (k + 1)-bit terms.
* ``acc``: PE x accumulator bits: the accumulate adder plus the threshold compare (or
  ``score``: PE x score bits); ``group_rom``: the per-group thresholds as a table when NF > 1.
* ``ctrl``: the issue counters, log2 of the words per vector.
* ``base``: handshake logic.

MSTUnit: ``pc_*`` = the compressor trees of every channel over its differing positions (``pop``
= their adder bits with adder trees), ``chain``
= the parent + child additions, ``cmp`` = the threshold compares. JetUnit: ``jets`` = the shared
row and column filters per input channel, ``select`` = the per-group choice of jet and sign when
folded, ``tree`` = the per-PE adder trees, ``acc`` = the compares.

SlidingWindow: ``pad`` = pixel bits when padded (input or border value), ``steps`` = the row/column
flag tables and counters (log of the padded size), ``enables`` = the copies of the step enable
(each with its copies of the flags) that drive slices of the line buffer and window register; the
line buffer is registers, which Yosys maps to SRL shift registers on xc7 (``srl``: for each gap
between taps, ceil(length / 32) per bit).
OrReduce: ``or`` = channels x the LUTs one channel's OR of that many pixels takes, a table per
family measured by ``bitfold calibrate`` (ABC maps wide ORs for delay, not area, in a way no
closed formula follows; beyond the table the cost grows linearly). ArgMax: ``cmp`` = (classes - 1) x
(2 x score bits + class bits). SkidBuffer: ``mux`` = width. Gather: ``slots`` = the beats
of a vector (each slot's write enable). StreamFIFO: ``base`` and the read mux and pointers of
its memory. Block RAM: each memory packed into the family's unit shapes, the best shape for
the whole memory, depth slices side by side (exact, as Yosys maps a ``ram_style="block"`` memory;
see :func:`bram_units`). Distributed RAM: xc7
RAM64M cells hold 64 x 3 bits (RAM32M 32 x 6), ECP5 TRELLIS_DPR16X4 16 x 4.
"""

import dataclasses
import math
import weakref

import numpy as np

from ..plan import (
    ArgMaxPlan,
    FifoPlan,
    GatherPlan,
    JetPlan,
    MemoryStyle,
    MSTPlan,
    MVTUPlan,
    OrPoolPlan,
    SkidPlan,
    SplitPlan,
    WindowPlan,
)
from ..plan.mvtu import InputMode
from ..plan.popcount import LANE, CompressorTreePlan, PopcountStyle
from ..plan.tree import AdderTreePlan

__all__ = ["lut_features", "structural", "bram_units", "tree_adder_bits", "shared_cones", "or_luts", "KINDS",
           "kind_of", "popcount_features", "popcounts_features"]

# feature prefix of each unit plan type: the component that builds it
KINDS = {MVTUPlan: "MVTU", JetPlan: "JetUnit", MSTPlan: "MSTUnit", WindowPlan: "SlidingWindow", OrPoolPlan: "OrReduce",
         GatherPlan: "Gather", SplitPlan: "Split", FifoPlan: "StreamFIFO", SkidPlan: "SkidBuffer", ArgMaxPlan: "ArgMax"}


def kind_of(unit) -> str:
    if type(unit) not in KINDS:
        raise TypeError(f"no resource model for {type(unit).__name__}")
    return KINDS[type(unit)]


def bram_units(depth: int, width: int, fam, read_only: bool = False) -> int:
    """Block RAM units for one ``depth x width`` memory, as Yosys's ``memory_libmap`` packs it.

    For each unit shape ``d x w`` the memory is cut into ``ceil(depth / d)`` depth slices, and the
    slices' bits are laid side by side in the units' width (the high address bits pick the slice at
    the output). A read-only memory packs bit by bit; a writable one in lanes of the family's write
    enable (9-bit bytes on xc7 and ECP5 in the 18- and 36-bit modes, single bits on iCE40; a mode
    narrower than two lanes holds one slice per unit). The best shape wins. Measured exact on
    both kinds of memory against Yosys 0.70 (e.g. a 3136 x 64 ROM: 13 RAMB18, not 7 x 2 = 14).
    """
    def units(d, w):
        lane = 1 if read_only else (fam.bram_lane if w >= 2 * fam.bram_lane else w)
        return math.ceil(math.ceil(depth / d) * math.ceil(width / lane) / (w // lane))

    return min(units(d, w) for d, w in fam.bram_shapes)


def _lutram_cells(depth, width, fam):
    if fam.name == "xc7":
        if depth <= 32:
            return math.ceil(width / 6)
        return math.ceil(depth / 64) * math.ceil(width / 3)
    if fam.name == "ecp5":
        return math.ceil(depth / 16) * math.ceil(width / 4)
    return 0


def tree_adder_bits(n: int, width: int) -> int:
    """Sum of the result widths of every adder in a balanced tree over ``n`` terms of ``width`` bits
    (:attr:`AdderTreePlan.adder_bits`)."""
    return AdderTreePlan(max(1, n), width).adder_bits


def _rom(words: int, bits: int, L: int) -> float:
    """LUTs of a read-only table of ``words`` x ``bits`` held in logic: an L-input LUT per 2^L words."""
    return float(bits * math.ceil(words / 2**L)) if words > 1 else 0.0


def shared_cones(weights, width, group=4):
    """Hard-wired weights ``(pe, simd)``: adder bits of the distinct first ``group``-term cones
    (identical ones are merged across PEs) and the adder bits of every PE's remaining tree."""
    pe, simd = weights.shape
    first, rest = 0, pe * tree_adder_bits(simd, width)
    for g in range(0, simd, group):
        n = min(group, simd - g)
        cone = tree_adder_bits(n, width)
        first += len(np.unique(weights[:, g:g + n], axis=0)) * cone
        rest -= pe * cone
    return float(first), float(rest)


def popcount_features(p: CompressorTreePlan, fam) -> dict:
    """LUT features of one XNOR popcount (:class:`~hw.plan.popcount.CompressorTreePlan`), to be
    added (prefixed, times the popcounts of a unit) to a unit's features. ``fam``: the family the
    costs are fitted for; a compressor tree is scheduled for one family, so it must be the plan's.

    ``style="tree"`` (the XNOR bits into :class:`~hw.plan.tree.AdderTreePlan`): ``xnor`` = ``n``
    XNORs with variable weights (none with constant ones: an inverter folds into the tree) and
    ``tree`` = the tree's adder bits, as the MVTU's ``xnor_var`` / ``pop_var`` have always counted.

    ``style="compressor"``: the LUT cells the plan's schedule maps to, by kind, each a count that the
    family's cells realize one LUT at a time (so each fitted cost should come out near 1; the fit
    absorbs what Yosys changes):

    * ``lanes``: the first stage's counters over lanes with variable weights. On xc7 three lanes
      (six inputs) give two count bits; ABC maps them to three cells, one lane's XOR as a LUT2 and
      both bits as LUT5 of it and the other two lanes (abc9 prices a LUT6 at 5, a LUT5 at 3), and
      where no register follows the stage it restructures them with the next stage's LUTs
      (measured +15% at n = 144 with ``reg_every = 2``): their own feature, so their own cost.
      LUT4 families: two lanes, two LUT4.
    * ``counters``: every other GPC in LUTs, one LUT per output bit (the full adders on inverted
      lanes of constant weights on LUT4 families, inverters).
    * ``chain``: carry-chain compressors. xc7: one LUT6 per position whose propagate is not a
      wire (``a_p ^ group bit``, the group's count merged into it); ECP5: no LUT4 (the CCU2C
      computes its propagate), only inverters of inverted operands; iCE40: one SB_LUT4 per chain
      output bit. Chains narrower than Yosys maps to carry cells are LUT logic: one LUT per result
      bit on xc7, a sum and a carry per position on LUT4 families.
    * ``final``: the final carry-chain adder, the same way.

    Their sum is the plan's :attr:`~hw.plan.popcount.CompressorTreePlan.luts`: against Yosys 0.70
    with ``reg_every = 2`` (n = 16 ... 4096, both weight modes) within 1% on xc7, exact on ECP5 up
    to n = 144 and up to 8% under above (see the plan module). Flip-flops are structural, the
    plan's ``register_bits``, and so are carry cells (CARRY4, CCU2C), its ``carry_cells``.
    """
    if p.style == PopcountStyle.TREE:
        return {"xnor": float(p.n if p.variable else 0), "tree": float(p.tree.adder_bits)}
    if fam.name != p.family:
        raise ValueError(f"a compressor tree scheduled for {p.family} cannot be priced for {fam.name}")
    f = {"lanes": 0.0, "counters": 0.0, "chain": 0.0, "final": 0.0}
    for stage in p.stages:
        luts = p.stage_luts(stage)
        if stage.final:
            f["final"] += luts
        elif stage.counters and all(stage.in_kinds[i] == LANE for c in stage.counters for _, i in c.inputs):
            f["lanes"] += luts
        else:
            counters = p.stage_luts(stage, chains=False)
            f["counters"] += counters
            f["chain"] += luts - counters
    return {k: v for k, v in f.items() if v}


def popcounts_features(plans, fam) -> dict:
    """:func:`popcount_features` summed over ``plans``, each scheduled for ``fam`` (a design
    compiled for another family is priced as if compiled for this one)."""
    out = {}
    for p in plans:
        if p.style == PopcountStyle.COMPRESSOR and p.family != fam.name:
            p = dataclasses.replace(p, family=fam.name)
        for k, v in popcount_features(p, fam).items():
            out[k] = out.get(k, 0.0) + v
    return out


def _distinct(plans) -> list:
    """Plans with distinct constant weights (identical ones build identical logic)."""
    seen = {}
    for p in plans:
        seen.setdefault(p.weights.tobytes(), p)
    return list(seen.values())


def negate_luts(bits: int, lut_inputs: int) -> int:
    """LUTs of a conditional negation of a ``bits``-wide value: bit i depends on i + 1 bits."""
    return sum(math.ceil((i + 1) / (lut_inputs - 1)) for i in range(bits))


def or_luts(pixels: int, fam, tables=None) -> float:
    """LUTs of one channel's OR over ``pixels`` bits: the measured table of the family, linear
    beyond it; without a table, a balanced tree of L-input LUTs."""
    table = (tables or {}).get("or_luts", {}).get(fam.name)
    if not table:
        return float(math.ceil((pixels - 1) / (fam.lut_inputs - 1)))
    points = sorted((int(n), float(v)) for n, v in table.items())
    ns, vs = [n for n, _ in points], [v for _, v in points]
    if pixels <= ns[-1]:
        return float(np.interp(pixels, ns, vs))
    slope = (vs[-1] - vs[-2]) / (ns[-1] - ns[-2]) if len(ns) > 1 else 1.0
    return vs[-1] + slope * (pixels - ns[-1])


_AS_FAMILY = weakref.WeakKeyDictionary()  # plan -> {family name: the plan as compiled for it}


def as_family(c, fam):
    """A binary MVTU plan as compiled for ``fam``: its popcount schedule and whether its weight
    table folds the XNOR depend on the family (a design compiled for another family is priced as
    if compiled for this one). Made once per plan and family: both :func:`lut_features` and
    :func:`structural` ask, and its schedules are the expensive part of an estimate."""
    if not (isinstance(c, MVTUPlan) and c.binary and c.popcount.family != fam.name):
        return c
    per = _AS_FAMILY.setdefault(c, {})
    if fam.name not in per:
        per[fam.name] = dataclasses.replace(c, popcount=dataclasses.replace(c.popcount, family=fam.name))
    return per[fam.name]


def lut_features(c, fam, tables=None) -> dict:
    """LUT features of one unit plan, named ``Kind.feature``; the cost of a unit of each is fitted
    per family (see the module docstring for the derivations). ``tables``: measured tables of the
    calibration (``or_luts``). A unit's output queue (``c.queue``) is priced as a queue."""
    c = as_family(c, fam)
    L = fam.lut_inputs
    kind = kind_of(c)
    f = {"base": 1.0}
    if isinstance(c, MVTUPlan):
        k, pe, simd, nf, sf, eb, vec = c.k, c.pe, c.simd, c.nf, c.sf, c.element_bits, c.vectors
        depth = c.depth
        wired = c.weight_style == MemoryStyle.WIRED
        from_table = c.weight_style == MemoryStyle.LOGIC and depth > 2
        f["rotate"] = float(vec * k * eb if sf > 1 and c.input == InputMode.VECTOR else 0)
        if sf > 1:
            f["lane_select"] = float(vec * pe * simd * eb)
        if c.buffered:  # the double-buffered input memory: its read mux, in LUT RAM cells per word
            f["buffer"] = float(c.chunk_bits * math.ceil(2 * sf / (64 if fam.name == "xc7" else 16)))
            f["buffer_lanes"] = float(pe * c.chunk_bits)
        if c.table_xnor:  # each lane's table and XNOR, by depth class (see the module docstring)
            words = "2" if depth <= 2 else "8" if depth <= 8 else "32" if depth <= 2 ** (L - 1) else "64"
            f[f"table_xnor_{words}"] = float(vec * pe * simd)
        elif c.weight_style == MemoryStyle.LOGIC:
            f["rom"] = float(c.table_columns * math.ceil(depth / 2**L))
        if c.binary and c.popcount.style == PopcountStyle.COMPRESSOR:
            # identical hard-wired PEs are one circuit (Yosys merges them); variable ones are not,
            # nor the plain-bit popcounts after a table's XNOR
            plans = _distinct(c.popcounts) if wired else c.popcounts
            prefix = "pc_const" if wired or c.table_xnor else "pc_var"
            for name, v in popcounts_features(plans, fam).items():
                f[f"{prefix}_{name}"] = vec * v
        elif c.binary:
            if wired:
                first, rest = shared_cones(c.weights, 1)
                f["pop_const_l2"], f["pop_const"] = vec * first, vec * rest
            else:
                if not c.table_xnor:
                    f["xnor_rom" if from_table else "xnor_var"] = float(vec * pe * simd)
                f["pop_var"] = float(vec * pe * tree_adder_bits(simd, 1))
        else:
            tw = c.term_width
            if wired:
                first, rest = shared_cones(c.weights, tw)
                f["int_const_l2"], f["int_const"] = vec * first, vec * rest
            else:
                f["int_sel_rom" if from_table else "int_sel"] = float(vec * pe * simd * negate_luts(tw, L))
                f["int_var"] = float(vec * pe * tree_adder_bits(simd, tw))
        acc = c.compare_bits
        f["score" if c.scores else "acc"] = float(vec * pe * (c.out_bits if c.scores else acc))
        f["group_rom"] = _rom(nf, pe * (acc + 1), L) if nf > 1 else 0.0
        f["ctrl"] = float(max(1, (depth - 1).bit_length()))
    elif isinstance(c, MSTPlan):
        pw = c.k.bit_length() + 1
        if c.popcount.style == PopcountStyle.COMPRESSOR:
            for name, v in popcounts_features(c.trees, fam).items():
                f[f"pc_{name}"] = c.vectors * v
        else:
            f["pop"] = float(c.vectors * sum(t.tree.adder_bits for t in c.trees))
        f["chain"] = float(c.vectors * sum(1 for p in c.schedule.parents if p >= 0) * pw)
        f["cmp"] = float(c.vectors * c.o * pw)
    elif isinstance(c, JetPlan):
        xw = max(2, c.element_bits + 1)
        vec = c.vectors
        f["jets"] = float(vec * c.channels * 15 * (xw + 3 + c.jet_width))  # row then column filters, per channel
        f["select"] = float(vec * c.pe * c.terms * c.jet_width if c.nf > 1 else 0)
        f["tree"] = float(vec * c.pe * c.tree.adder_bits)
        f["acc"] = float(vec * c.pe * c.acc_bits)
    elif isinstance(c, WindowPlan):
        f["pad"] = float(c.in_pixels * c.pixel_bits if any(c.pads) else 0)
        f["tables"] = float(math.ceil(c.hp / 2**L) + math.ceil(c.words_per_row / 2**L))
        f["enables"] = float(c.enable_copies)  # a copy's step enable and next flags
    elif isinstance(c, OrPoolPlan):
        f["or"] = c.windows * c.channels * or_luts(c.pixels, fam, tables)
    elif isinstance(c, ArgMaxPlan):
        f["cmp"] = float((c.classes - 1) * (2 * c.score_width + c.class_bits))
    elif isinstance(c, SkidPlan):
        f["mux"] = float(c.width)
    elif isinstance(c, SplitPlan):
        f["mux"] = float(c.i_width)
    elif isinstance(c, GatherPlan):
        f["slots"] = float(c.count if c.count > 1 else 0)  # a slot's write enable
    elif isinstance(c, FifoPlan):
        # distributed RAM reads through a (depth / 16):1 mux per bit (ECP5 16-word cells; xc7 64)
        cell = 64 if fam.name == "xc7" else 16
        dist = c.style == MemoryStyle.DISTRIBUTED
        f["dist_mux"] = float(c.width * (math.ceil(c.entries / cell) - 1) if dist else 0)
        f["dist_bits"] = float(c.width if dist else 0)
        f["pointers"] = float(c.entries.bit_length() * len(c.read_slices))  # the read pointer's copies too
    out = {f"{kind}.{name}": v for name, v in f.items() if v}
    queue = getattr(c, "queue", None)
    if isinstance(queue, FifoPlan):
        for name, v in lut_features(queue, fam, tables).items():
            out[name] = out.get(name, 0.0) + v
    return out


def structural(c, fam) -> dict:
    """Exact structural counts: register bits, block RAM units, distributed RAM cells, SRL cells (a
    unit's output queue and input buffer counted as queues and memories)."""
    c = as_family(c, fam)
    out = {"ff": float(c.register_bits), "bram": 0, "lutram": 0, "srl": 0}
    queue = getattr(c, "queue", None)
    if isinstance(queue, FifoPlan):
        q = structural(queue, fam)
        out["ff"] += q["ff"] - queue.register_bits  # the queue's registers are in the unit's count
        for key in ("bram", "lutram"):
            out[key] += q[key]
    if isinstance(c, MVTUPlan) and c.buffered:
        if c.buffer_style == MemoryStyle.BLOCK:
            out["bram"] += bram_units(2 * c.sf, c.chunk_bits, fam)
        else:
            out["lutram"] += _lutram_cells(2 * c.sf, c.chunk_bits, fam)
    if isinstance(c, MVTUPlan) and c.weight_style == MemoryStyle.BLOCK:
        out["bram"] += bram_units(c.depth, c.pe * c.simd, fam, read_only=True)
    if isinstance(c, MVTUPlan) and c.weight_style == MemoryStyle.LOGIC and not c.table_xnor:
        out["ff"] += c.table_columns  # the table's read register (identical columns share one)
    if isinstance(c, FifoPlan):
        if c.style == MemoryStyle.BLOCK:
            out["bram"] = bram_units(c.entries, c.width, fam)
        else:
            out["lutram"] = sum(_lutram_cells(c.entries, b - a, fam) for a, b in c.read_slices)
            out["ff"] += c.width  # a distributed RAM's read data needs its own register
    if isinstance(c, WindowPlan) and fam.srl_cells:
        # between the last tap of one window row and the first of the next, each of the P pixel
        # lanes of the line buffer is a plain shift register of ``gap`` words: SRL cells
        kh = c.kernel[0]
        gap = (c.wp - c.word_end - 1) // c.in_pixels
        if kh > 1 and gap >= 2:
            out["srl"] = (kh - 1) * math.ceil(gap / 32) * c.in_pixels * c.pixel_bits
            out["ff"] -= (kh - 1) * gap * c.in_pixels * c.pixel_bits
    return out
