"""A neural jet feature layer (built by :class:`hw.rtl.jet_unit.JetUnit`)."""

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..errors import BitfoldError
from ..passes.fold import divisors
from .memory import range_bits
from .outputs import ThresholdOut
from .stream import FifoPlan
from .tree import AdderTreePlan

__all__ = ["JetPlan"]


@dataclass(frozen=True, eq=False)
class JetPlan:
    """For each 3 x 3 window the nine jets of every input channel are computed as a group (three 1-D
    filters along the rows, then along the columns) and registered; then ``o / pe`` groups of
    ``pe`` output channels each add, per input channel, the jets their coefficients select (+1, -1
    or 0) in an adder tree, and compare the sum with their thresholds.

    Parameters
    ----------
    name : str
    coeffs : numpy.ndarray
        int ``(o, c, 9)`` in {-1, 0, +1}; jet ``j = 3a + b`` is vertical filter ``a`` times
        horizontal filter ``b``, in the order S, D, L.
    pe : int
        Output channels in parallel (divides ``o``).
    output : ThresholdOut
    in_bits, in_signed :
        0 for a binary input (a bit b counts as 2b - 1); else the width of an integer element.
    vectors : int
        M windows per beat, each with its own datapath.
    out_depth : int or None
        Entries of the output queue, at least :attr:`credits` (None: that many).
    reg_every : int
    """

    name: str
    coeffs: np.ndarray
    pe: int
    output: ThresholdOut
    in_bits: int = 0
    in_signed: bool = False
    vectors: int = 1
    out_depth: int | None = None
    reg_every: int = 2

    def __post_init__(self):
        c = np.asarray(self.coeffs, dtype=np.int64)
        if c.ndim != 3 or c.shape[2] != 9 or np.any(np.abs(c) > 1):
            raise BitfoldError(f"{self.name}: jet coefficients must be an (outputs, channels, 9) array of -1, 0, +1")
        object.__setattr__(self, "coeffs", c)
        if self.pe not in divisors(self.o):
            raise BitfoldError(f"{self.name}: PE={self.pe} does not divide {self.o} outputs; "
                               f"valid PE: {divisors(self.o)}")
        object.__setattr__(self, "in_signed", bool(self.in_signed))

    @property
    def o(self) -> int:
        return int(self.coeffs.shape[0])

    @property
    def channels(self) -> int:
        return int(self.coeffs.shape[1])

    @property
    def nf(self) -> int:
        return self.o // self.pe

    @property
    def element_bits(self) -> int:
        return max(1, self.in_bits)

    @property
    def x_range(self) -> tuple:
        if self.in_bits == 0:
            return -1, 1
        if self.in_signed:
            return -(2 ** (self.in_bits - 1)), 2 ** (self.in_bits - 1) - 1
        return 0, 2**self.in_bits - 1

    @property
    def x_max(self) -> int:
        return max(abs(v) for v in self.x_range)

    @property
    def jet_width(self) -> int:
        return (16 * self.x_max).bit_length() + 1

    @property
    def acc_bits(self) -> int:
        return (16 * self.x_max * 9 * self.channels).bit_length() + 1

    @property
    def threshold_width(self) -> int:
        return max(int(np.abs(self.output.thresholds).max(initial=0)).bit_length(), self.acc_bits) + 2

    @property
    def i_width(self) -> int:
        return self.vectors * 9 * self.channels * self.element_bits

    @property
    def o_width(self) -> int:
        return self.vectors * self.o

    def pe_terms(self, p) -> list:
        """The (channel, jet) pairs PE ``p`` ever adds (over its output channel in every group)."""
        chans = [gi * self.pe + p for gi in range(self.nf)]
        used = np.any(self.coeffs[chans], axis=0)  # (c, 9)
        return [(int(ch), int(j)) for ch, j in zip(*np.nonzero(used), strict=True)]

    @cached_property
    def terms(self) -> int:
        """Terms of every PE's adder tree (the busiest PE's count; the others are padded)."""
        return max(1, max(len(self.pe_terms(p)) for p in range(self.pe)))

    @cached_property
    def tree(self) -> AdderTreePlan:
        return AdderTreePlan(self.terms, self.jet_width, signed=True, reg_every=self.reg_every)

    @property
    def cycles_per_vector(self) -> int:
        return self.nf

    @property
    def latency(self) -> int:
        """Cycles from offering a window to its result being offered on ``o`` when nothing else is
        in the unit: the jet register, ``nf`` groups through the term register, the adder tree, the
        compare, the output queue."""
        return 1 + self.nf + self.tree.latency + 1 + FifoPlan.latency

    @property
    def credits(self) -> int:
        """Output queue entries that let a window start every ``nf`` cycles while the queue drains."""
        return -(-(self.latency + 1) // self.nf) + 1

    @property
    def queue(self) -> FifoPlan:
        return FifoPlan(self.o_width, max(self.out_depth or 0, self.credits) + 1)

    @property
    def register_bits(self) -> int:
        """As elaborated: the jet registers, busy and group counters, the term registers, the trees
        and the flags beside them, the compare, the group assembly, the credit counter and the
        output queue."""
        g = range_bits(self.nf) if self.nf > 1 else 0
        vec = self.vectors
        terms = sum(len(self.pe_terms(p)) for p in range(self.pe)) * self.jet_width
        per_vector = (9 * self.channels * self.jet_width + terms + self.pe * self.tree.register_bits + self.pe
                      + (self.nf - 1) * self.pe)
        flags = 1 + g
        avail = 1 if self.nf > 1 else 0
        return (vec * per_vector + 1 + g + avail + flags * (1 + self.tree.latency + 1)
                + range_bits(self.queue.entries + 1) + 1 + self.queue.register_bits)

    @property
    def memory_bits(self) -> int:
        return self.queue.memory_bits
