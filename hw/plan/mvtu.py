"""The matrix-vector-threshold unit: one binary-weight layer folded PE x SIMD."""

from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property

import numpy as np

from ..errors import BitfoldError
from ..ir.graph import WeightMode
from ..passes.fold import divisors
from .memory import MemoryStyle, memory_style, range_bits
from .outputs import ScoreOut, ThresholdOut
from .popcount import TARGETS, Popcount
from .stream import FifoPlan
from .tree import AdderTreePlan

__all__ = ["MVTUPlan", "InputMode", "PES_PER_COPY", "LANES_PER_ADDRESS"]

# PEs one copy of the chunk register drives: nextpnr does not replicate a register whose fan-out
# spans the die (tfc's first layer on ECP5: one chunk bit into 64 PEs, 14.9 ns of routing)
PES_PER_COPY = 8
# weight bits of a table in logic read through one copy of its address: every bit of the table is
# a LUT (or a tree of them) that reads every address bit
LANES_PER_ADDRESS = 256


class InputMode(StrEnum):
    """How vectors arrive on an MVTU's input stream."""

    VECTOR = "vector"  # a beat holds whole vectors (``vectors`` of them: the windows of a convolution)
    CHUNK = "chunk"    # a beat holds ``simd`` elements of one vector; ``k / simd`` beats make a vector


@dataclass(frozen=True, eq=False)
class MVTUPlan:
    """Everything about an MVTU that is not logic (built by :class:`hw.rtl.mvtu.MVTU`).

    The unit computes ``o`` outputs of each input vector in ``o / pe`` groups (``nf``) of ``pe``
    parallel neurons, each group reading ``simd`` elements per cycle over ``k / simd`` cycles
    (``sf``): ``nf * sf`` issue cycles per vector. With ``vectors`` (M) > 1 it computes M vectors at
    once (the M windows of a convolution's output group), sharing the weights.

    Input (:class:`InputMode`): ``vector`` beats hold M whole vectors, loaded into a register that
    rotates by ``simd`` elements per issue cycle; ``chunk`` beats hold ``simd`` elements, issued as
    they arrive when ``nf = 1``, else written into a double-buffered input memory of ``2 * sf``
    words and read ``nf`` times.

    The datapath never stalls: a vector starts only when the unit's output queue (``out_depth``
    entries) has room for its result (credits), so no enable fans out to the pipeline. The output
    queue is the layer's queue: ``out_depth`` is at least :attr:`credits`, more when the link needs
    it.

    Parameters
    ----------
    name : str
    weights : numpy.ndarray
        Weight bits ``(o, k)``, 1 meaning +1, columns in the order elements arrive in a vector.
    pe, simd : int
        Output channels in parallel (divides ``o``), input elements per cycle (divides ``k``).
    output : ThresholdOut or ScoreOut
    in_bits, in_signed :
        0 for a binary input (XNOR + popcount); else the width of an integer input element
        (k-bit x ±1: add where the weight is +1, subtract where it is -1), two's complement if signed.
    mode : WeightMode
        ``memory``: a table of ``nf * sf`` words of ``pe * simd`` bits; ``constant``: hard-wired.
    vectors : int
        M vectors computed at once (``vector`` input only).
    input : InputMode
    out_depth : int or None
        Entries of the output queue, at least :attr:`credits` (None: that many).
    reg_every : int
        Adder tree levels (compressor stages) per pipeline stage.
    popcount : Popcount
        How a binary input's XNOR-popcount is built (see :attr:`popcounts`).
    """

    name: str
    weights: np.ndarray
    pe: int
    simd: int
    output: ThresholdOut | ScoreOut
    in_bits: int = 0
    in_signed: bool = False
    mode: WeightMode = WeightMode.MEMORY
    vectors: int = 1
    input: InputMode = InputMode.VECTOR
    out_depth: int | None = None
    reg_every: int = 2
    popcount: Popcount = Popcount()

    def __post_init__(self):
        w = np.asarray(self.weights)
        if w.ndim != 2 or w.dtype != np.uint8 or (w.size and w.max() > 1):
            raise BitfoldError(f"{self.name}: weights must be a 2-D uint8 array of bits")
        o, k = w.shape
        if self.pe not in divisors(o):
            raise BitfoldError(f"{self.name}: PE={self.pe} does not divide {o} outputs; valid PE: {divisors(o)}")
        if self.simd not in divisors(k):
            raise BitfoldError(f"{self.name}: SIMD={self.simd} does not divide {k} inputs; "
                               f"valid SIMD: {divisors(k)}")
        if self.mode not in tuple(WeightMode):
            raise BitfoldError(f"{self.name}: weight mode must be 'memory' or 'constant', not {self.mode!r}")
        object.__setattr__(self, "mode", WeightMode(self.mode))
        object.__setattr__(self, "input", InputMode(self.input))
        object.__setattr__(self, "in_signed", bool(self.in_signed))
        if self.vectors < 1 or (self.vectors > 1 and self.input != InputMode.VECTOR):
            raise BitfoldError(f"{self.name}: {self.vectors} vectors at once need whole-vector input beats")

    # -- shape ------------------------------------------------------------------------------------
    @property
    def o(self) -> int:
        return int(self.weights.shape[0])

    @property
    def k(self) -> int:
        return int(self.weights.shape[1])

    @property
    def nf(self) -> int:
        """Groups of ``pe`` output channels (neuron fold)."""
        return self.o // self.pe

    @property
    def sf(self) -> int:
        """Chunks of ``simd`` inputs per vector (synapse fold)."""
        return self.k // self.simd

    @property
    def depth(self) -> int:
        """Words of the weight table: one per issue cycle of a vector."""
        return self.nf * self.sf

    @property
    def element_bits(self) -> int:
        return max(1, self.in_bits)

    @property
    def binary(self) -> bool:
        return self.in_bits == 0

    @property
    def term_width(self) -> int:
        """Width of one tree term: an XNOR bit, or +x / -x of a k-bit element."""
        return 1 if self.binary else self.in_bits + 1

    @property
    def scores(self) -> bool:
        return isinstance(self.output, ScoreOut)

    @property
    def out_bits(self) -> int:
        """Bits per output channel."""
        return self.output.bits

    @property
    def chunk_bits(self) -> int:
        return self.simd * self.element_bits

    @property
    def i_width(self) -> int:
        if self.input == InputMode.CHUNK:
            return self.chunk_bits
        return self.vectors * self.k * self.element_bits

    @property
    def o_width(self) -> int:
        return self.vectors * self.o * self.out_bits

    @property
    def buffered(self) -> bool:
        """Chunk input read more than once: through the double-buffered input memory."""
        return self.input == InputMode.CHUNK and self.nf > 1

    @property
    def buffer_style(self) -> MemoryStyle:
        return memory_style(2 * self.sf, self.chunk_bits, read_only=False)

    # -- datapath ---------------------------------------------------------------------------------
    @cached_property
    def tree(self) -> AdderTreePlan:
        """Each PE's adder tree over ``simd`` signed terms (one per vector), for an integer input."""
        return AdderTreePlan(self.simd, self.term_width, signed=not self.binary, reg_every=self.reg_every)

    @cached_property
    def popcounts(self) -> tuple:
        """For a binary input, each PE's XNOR-popcount over ``simd`` lanes (one per vector): with
        hard-wired weights one plan per PE over its constant weights (the XNOR folds into the
        first counters), else one plan with variable weights shared by every PE."""
        if not self.binary:
            return ()
        if self.weight_style == MemoryStyle.WIRED:
            row = self.weight_table[0]
            return tuple(self.popcount.plan(self.simd, row[p * self.simd:(p + 1) * self.simd], self.reg_every)
                         for p in range(self.pe))
        if self.table_xnor:
            return (self.popcount.plan(self.simd, np.ones(self.simd, np.uint8), self.reg_every),) * self.pe
        return (self.popcount.plan(self.simd, None, self.reg_every),) * self.pe

    @property
    def pe_groups(self) -> int:
        """Groups of at most :data:`PES_PER_COPY` PEs, each driven by its own copies of the
        registers every PE reads (the chunk, the accumulators' flags, the group index)."""
        return -(-self.pe // PES_PER_COPY)

    @property
    def pes_per_copy(self) -> int:
        """PEs in one group (the last may have fewer)."""
        return -(-self.pe // self.pe_groups)

    @property
    def chunk_copies(self) -> int:
        """Copies of the weight stage's chunk register: one per PE group where the weights are
        variable (a table or a memory). Hard-wired weights keep one: Yosys merges the identical
        logic cones of different PEs, which copies would keep apart (measured on ECP5, 16 PEs in
        two copies: +24% LUT4 on 64 binary lanes, +56% on 9 8-bit ones). A buffered input's chunk
        is the buffer memory's read register: one."""
        return 1 if self.buffered or self.weight_style == MemoryStyle.WIRED else self.pe_groups

    @property
    def address_copies(self) -> int:
        """Copies of the weight address counter where the weights are a table in logic: one per
        :data:`LANES_PER_ADDRESS` weight bits, each copy reading the table for its span of the
        word (:attr:`address_span`); else one."""
        if self.weight_style != MemoryStyle.LOGIC or self.depth == 1:
            return 1
        return -(-self.pe * self.simd // LANES_PER_ADDRESS)

    @property
    def address_span(self) -> int:
        """Weight bits read through one copy of the address (the last copy may read fewer)."""
        return -(-self.pe * self.simd // self.address_copies)

    @property
    def table_xnor(self) -> bool:
        """A binary layer whose weights are a table in logic, read combinationally from a registered
        address: each lane's weight bit and its XNOR are one function of the address and the input
        bit, so the XNOR bits reach a popcount of plain bits (no register per weight bit). Up to the
        popcount family's ``table_words`` (:class:`~hw.plan.popcount.Target`; xc7 only)."""
        return (self.binary and self.weight_style == MemoryStyle.LOGIC
                and self.depth <= TARGETS[self.popcount.family].table_words)

    @property
    def count_latency(self) -> int:
        """Cycles through the counting stage: the slowest PE's popcount (the others are padded to
        it), or the adder tree."""
        if self.binary:
            return max(p.latency for p in self.popcounts)
        return self.tree.latency

    @property
    def count_register_bits(self) -> int:
        """Flip-flops of one vector's counting stage: every PE's tree and its padding."""
        if not self.binary:
            return self.pe * self.tree.register_bits
        lat = self.count_latency
        return sum(p.register_bits + (lat - p.latency) * p.out_width for p in self.popcounts)

    @cached_property
    def acc_range(self) -> tuple:
        """Bounds of the hardware accumulator (popcount or signed sum) over every reachable input."""
        if self.binary:
            return 0, self.k
        eb = self.in_bits
        lo, hi = (-(2 ** (eb - 1)), 2 ** (eb - 1) - 1) if self.in_signed else (0, 2**eb - 1)
        m = max(abs(lo), abs(hi))
        return -m * self.k, m * self.k

    @property
    def acc_signed(self) -> bool:
        return self.acc_range[0] < 0

    @property
    def acc_bits(self) -> int:
        """Width of the accumulator register (two's complement when signed)."""
        lo, hi = self.acc_range
        return max(hi.bit_length(), (-lo - 1).bit_length()) + 1 if lo < 0 else hi.bit_length()

    @property
    def compare_bits(self) -> int:
        """Width of the accumulator as a signed number (what the threshold compare and the area
        models count): an unsigned accumulator gains a sign bit."""
        return self.acc_bits + (0 if self.acc_signed else 1)

    @property
    def threshold_width(self) -> int:
        """Width of the signed compare with the thresholds (wide enough for both sides)."""
        lo, hi = self.acc_range
        t = self.output.thresholds
        return max(int(lo).bit_length(), int(hi + 2).bit_length(), int(t.max()).bit_length(),
                   int(-t.min()).bit_length()) + 2

    # -- weights ----------------------------------------------------------------------------------
    @property
    def weight_style(self) -> MemoryStyle:
        """Where the weights live: block RAM, a table in logic (as deep as one LUT of the popcount's
        family holds: a deeper table in LUT4s is a tree of LUTs and muxes per column, whose address
        fans out to every leaf: sfc's first layer at 64 words would be 3,136 such trees of 16 LUT4), or
        wired (one word, hard-wired)."""
        if self.mode == WeightMode.CONSTANT:
            return MemoryStyle.WIRED if self.depth == 1 else MemoryStyle.LOGIC
        return memory_style(self.depth, self.pe * self.simd, read_only=True,
                            rom_words=2 ** TARGETS[self.popcount.family].lut_inputs)

    @cached_property
    def weight_table(self) -> np.ndarray:
        """The weight image, ``(depth, pe * simd)`` bits: word ``g * sf + s`` holds, for PE ``p``,
        bits ``[p*simd, (p+1)*simd)`` = weights of channel ``g*pe + p``, inputs ``[s*simd, (s+1)*simd)``."""
        w = self.weights.reshape(self.nf, self.pe, self.sf, self.simd).transpose(0, 2, 1, 3)
        return np.ascontiguousarray(w.reshape(self.depth, self.pe * self.simd))

    def weight_words(self) -> list:
        """The weight image as one integer per word (bit 0 = column 0)."""
        return [int.from_bytes(np.packbits(row, bitorder="little").tobytes(), "little") for row in self.weight_table]

    @cached_property
    def table_columns(self) -> int:
        """Distinct columns of the weight table that are neither constant nor an address bit (or its
        complement), summed over the spans read through their own address copy: the
        columns a table in logic spends LUTs and a read register on (Yosys merges identical
        columns of one read, and a constant or address-bit column needs no LUT)."""
        words = self.depth
        if words < 2:
            return 0
        addr = (np.arange(words)[None, :] >> np.arange(max(1, (words - 1).bit_length()))[:, None]) & 1
        trivial = np.concatenate([np.zeros((1, words)), np.ones((1, words)), addr, 1 - addr]).astype(np.uint8)
        span = self.address_span
        total = 0
        for lo in range(0, self.pe * self.simd, span):
            cols = np.unique(self.weight_table[:, lo:lo + span].T, axis=0)
            total += int((~(cols[:, None, :] == trivial[None, :, :]).all(axis=2).any(axis=1)).sum())
        return total

    # -- timing and storage -------------------------------------------------------------------------
    @property
    def cycles_per_vector(self) -> int:
        """Issue cycles per input item (M vectors, or one vector of ``sf`` chunks)."""
        return self.depth

    @property
    def weight_read_registers(self) -> int:
        """Registers after a block RAM's read (the chunk and flags travel beside them): its
        clock-to-output is slow. Measured on ECP5 (sfc at 64 cycles; Yosys maps DP16KD without its
        output register, 5.8 ns from clock to data): the path from a RAM through the first
        compressor stage took 15.2 ns; with one register after the RAM, the RAM-to-register net
        took 12.7 ns (the register sat by its consumers); a second register can sit by the RAM
        (the popcount family's ``bram_read_registers``: two on ECP5, one on iCE40, none on xc7,
        see :class:`~hw.plan.popcount.Target`)."""
        if self.weight_style != MemoryStyle.BLOCK:
            return 0
        return TARGETS[self.popcount.family].bram_read_registers

    @property
    def pipeline(self) -> int:
        """Cycles from an issue to its result at the output queue's input: the weight stage (and
        :attr:`weight_read_registers`), the tree's stages, the accumulator's total, the compare."""
        return 1 + self.weight_read_registers + self.count_latency + 1 + 1

    @property
    def credits(self) -> int:
        """Results the pipeline can hold: output queue entries that let a vector start every
        ``cycles_per_vector`` cycles while the queue drains every cycle (a vector's entry is reserved
        from its start, at most ``latency + sf`` cycles before its result leaves)."""
        return -(-(self.latency + self.sf + 1) // self.cycles_per_vector) + 1

    @property
    def queue(self) -> FifoPlan:
        """The output queue."""
        return FifoPlan(self.o_width, max(self.out_depth or 0, self.credits) + 1)

    @property
    def latency(self) -> int:
        """Cycles from the cycle a vector (its last chunk, for chunk input) is offered on ``i`` to
        the cycle its result is offered on ``o``, with nothing else in the unit: the load (the
        vector register's, or the input buffer's write and the start), the issue cycles, the
        pipeline, the queue."""
        tail = self.pipeline + FifoPlan.latency
        if self.input == InputMode.VECTOR:
            return 1 + self.depth - 1 + tail
        if self.buffered:
            return 2 + self.depth - 1 + tail
        return tail

    @property
    def register_bits(self) -> int:
        """Flip-flops as elaborated (see :meth:`storage`)."""
        return self.storage[0]

    @property
    def memory_bits(self) -> int:
        return self.storage[1]

    @cached_property
    def storage(self) -> tuple:
        """``(register bits, memory bits)``: the issue stage (vector register or input buffer
        pointers, counters), the weight stage (flags, group, chunk, a table's registered address),
        the trees' pipeline registers and the flags beside them, accumulators, totals, the compare
        register, group assembly, the credit counter and the output queue; memories: the weight
        table (unless wired), the input buffer, the queue."""
        def counter(n):  # a counter over range(n); none when n is 1
            return range_bits(n) if n > 1 else 0

        g, s, a = counter(self.nf), counter(self.sf), counter(self.depth)
        flags = 1 + (2 if self.sf > 1 else 0) + g  # valid, first and last chunk, group
        vec = self.vectors
        if self.input == InputMode.VECTOR:
            issue = vec * self.k * self.element_bits + 1 + s + g + a + (2 if self.depth > 1 else 0)  # + avail, ready
        elif self.buffered:
            issue = 2 + 1 + s + 1 + 1 + s + g + a  # bank flags, write bank and pointer, busy, read bank, counters
        else:
            issue = s + (1 if self.sf > 1 else 0)  # the chunk counter and its ``s == 0`` flag
        issue += (self.address_copies - 1) * a  # the address counter's copies
        weight_stage = flags + (0 if self.buffered else vec * self.chunk_bits * self.chunk_copies)
        # per register after a block RAM's read: the flags, the chunk (a buffered chunk, read from
        # the buffer's own register, takes its one register at the end instead) and the word
        weight_stage += self.weight_read_registers * (flags + vec * self.chunk_bits + self.pe * self.simd)
        if self.table_xnor:
            weight_stage += a * self.address_copies  # the table's registered address, per copy
        trees = vec * self.count_register_bits + self.count_latency * flags
        if self.count_latency and self.sf > 1:  # copies of the accumulators' last valid and first flags
            trees += (self.pe_groups - 1) * 2
        # (accumulator,) total; valid, group (a copy per PE group)
        totals = vec * self.pe * self.acc_bits * (2 if self.sf > 1 else 1) + 1 + g * self.pe_groups
        finish = vec * self.pe * self.out_bits + 1 + g
        assembly = vec * (self.nf - 1) * self.pe * self.out_bits
        credit = range_bits(self.queue.entries + 1) + 1  # the counter and the room flag
        regs = issue + weight_stage + trees + totals + finish + assembly + credit + self.queue.register_bits
        weights = 0 if self.weight_style == MemoryStyle.WIRED else self.depth * self.pe * self.simd
        mem = self.queue.memory_bits + weights
        if self.buffered:
            mem += 2 * self.sf * self.chunk_bits
        return regs, mem
