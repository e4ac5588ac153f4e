"""The matrix-vector-threshold unit: one binary-weight layer folded PE x SIMD."""

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..errors import BitfoldError
from ..ir.graph import WeightMode
from ..passes.fold import divisors
from .memory import MemoryStyle, memory_style, range_bits
from .outputs import ScoreOut, ThresholdOut
from .tree import AdderTreePlan

__all__ = ["MVTUPlan"]


@dataclass(frozen=True, eq=False)
class MVTUPlan:
    """Everything about an MVTU that is not logic (built by :class:`hw.rtl.mvtu.MVTU`).

    Each input beat is one whole vector of ``k`` elements. The unit computes ``o`` outputs in
    ``o / pe`` groups (``nf``) of ``pe`` parallel neurons, each group reading ``simd`` elements per
    cycle over ``k / simd`` cycles (``sf``), so one vector takes ``nf * sf`` cycles; the next is
    loaded on the cycle the last chunk of the current one issues.

    Parameters
    ----------
    name : str
    weights : numpy.ndarray
        Weight bits ``(o, k)``, 1 meaning +1, columns in the order elements arrive in a vector.
    pe, simd : int
        Output channels in parallel (divides ``o``), input elements per cycle (divides ``k``).
    in_bits, in_signed :
        0 for a binary input (XNOR + popcount); else the width of an integer input element
        (k-bit x ±1: add where the weight is +1, subtract where it is -1), two's complement if signed.
    mode : WeightMode
        ``memory``: a table of ``nf * sf`` words of ``pe * simd`` bits; ``constant``: hard-wired.
    output : ThresholdOut or ScoreOut
    reg_every : int
        Adder tree levels per pipeline stage.
    """

    name: str
    weights: np.ndarray
    pe: int
    simd: int
    output: ThresholdOut | ScoreOut
    in_bits: int = 0
    in_signed: bool = False
    mode: WeightMode = WeightMode.MEMORY
    reg_every: int = 2

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
        object.__setattr__(self, "in_signed", bool(self.in_signed))

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
    def i_width(self) -> int:
        return self.k * self.element_bits

    @property
    def o_width(self) -> int:
        return self.o * self.out_bits

    # -- datapath ---------------------------------------------------------------------------------
    @cached_property
    def tree(self) -> AdderTreePlan:
        """Each PE's tree over ``simd`` terms."""
        return AdderTreePlan(self.simd, self.term_width, signed=not self.binary, reg_every=self.reg_every)

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
        """Where the weights live: block RAM, a table in logic, or wired (one word, hard-wired)."""
        if self.mode == WeightMode.CONSTANT:
            return MemoryStyle.WIRED if self.depth == 1 else MemoryStyle.LOGIC
        return memory_style(self.depth, self.pe * self.simd, read_only=True)

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
        complement): the columns a table in logic spends LUTs and a read register on (Yosys merges
        identical columns, and a constant or address-bit column needs no LUT)."""
        words = self.depth
        if words < 2:
            return 0
        cols = np.unique(self.weight_table.T, axis=0)
        addr = (np.arange(words)[None, :] >> np.arange(max(1, (words - 1).bit_length()))[:, None]) & 1
        trivial = np.concatenate([np.zeros((1, words)), np.ones((1, words)), addr, 1 - addr]).astype(np.uint8)
        keep = ~(cols[:, None, :] == trivial[None, :, :]).all(axis=2).any(axis=1)
        return int(keep.sum())

    # -- timing and storage -------------------------------------------------------------------------
    @property
    def cycles_per_vector(self) -> int:
        return self.depth

    @property
    def latency(self) -> int:
        """Cycles from the cycle a vector is offered on ``i`` to the cycle its result is offered on
        ``o``, when nothing stalls (the convention of every unit plan): the load, ``nf * sf``
        issue cycles, the weight stage, the tree's stages, the output register."""
        return self.cycles_per_vector + 2 + self.tree.latency

    @property
    def register_bits(self) -> int:
        """Flip-flops as elaborated: vector register, busy flag, chunk/group/address counters, the
        rotate flag, the weight stage (flags, group, chunk), the trees' pipeline registers, the
        flags beside them, accumulators, group assembly and the output register (a memory's read
        data register is counted in its memory)."""
        g = range_bits(max(2, self.nf))
        issue = self.i_width + 1 + range_bits(max(2, self.sf)) + g + range_bits(max(2, self.depth))
        take = 1 if self.sf > 1 else 0
        weight_stage = 3 + g + self.simd * self.element_bits
        trees = self.pe * self.tree.register_bits + self.tree.latency * (3 + g)
        assembly = (self.nf - 1) * self.pe * self.out_bits
        return issue + take + weight_stage + trees + self.pe * self.acc_bits + assembly + 1 + self.o_width

    @property
    def memory_bits(self) -> int:
        return 0 if self.weight_style == MemoryStyle.WIRED else self.depth * self.pe * self.simd
