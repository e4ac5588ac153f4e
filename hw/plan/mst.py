"""A fully parallel binary layer computed along an MST schedule (built by :class:`hw.rtl.mst_unit.MSTUnit`)."""

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..errors import BitfoldError
from ..ir.schedule import Schedule
from .memory import range_bits
from .outputs import ThresholdOut
from .popcount import Popcount
from .stream import FifoPlan

__all__ = ["MSTPlan"]


@dataclass(frozen=True, eq=False)
class MSTPlan:
    """A root channel's popcount is a full XNOR-popcount over the ``k`` inputs; a child ``c`` of
    parent ``p`` counts only the positions Δ where their weights differ and adds
    ``popcount_c = popcount_p + 2 * popcount(XNOR(x_Δ, W_c,Δ)) - |Δ|``. All partial popcounts run in
    parallel (trees padded to one latency); then one pipeline stage per tree depth adds each child
    to its parent's registered count and compares it with the channel's threshold.

    Parameters
    ----------
    name : str
    weights : numpy.ndarray
        Weight bits ``(o, k)`` (hard-wired).
    schedule : Schedule
    output : ThresholdOut
        Thresholds on the popcount.
    vectors : int
        M vectors per beat, each with its own datapath (the windows of a convolution's output group).
    out_depth : int or None
        Entries of the output queue, at least :attr:`credits` (None: that many).
    reg_every : int
    popcount : Popcount
        How each channel's XNOR-popcount over its positions is built (constant weights).
    """

    name: str
    weights: np.ndarray
    schedule: Schedule
    output: ThresholdOut
    vectors: int = 1
    out_depth: int | None = None
    reg_every: int = 2
    popcount: Popcount = Popcount()

    def __post_init__(self):
        w = np.asarray(self.weights)
        if w.ndim != 2 or w.dtype != np.uint8:
            raise BitfoldError(f"{self.name}: weights must be a 2-D uint8 array of bits")
        if len(self.schedule.parents) != len(w):
            raise BitfoldError(f"{self.name}: the schedule has {len(self.schedule.parents)} channels, "
                               f"the layer {len(w)}")

    @property
    def o(self) -> int:
        return int(self.weights.shape[0])

    @property
    def k(self) -> int:
        return int(self.weights.shape[1])

    @property
    def i_width(self) -> int:
        return self.vectors * self.k

    @property
    def o_width(self) -> int:
        return self.vectors * self.o

    @cached_property
    def deltas(self) -> tuple:
        """Per channel: the input positions its tree counts (all for a root, Δ for a child)."""
        return tuple(self.schedule.deltas(self.weights))

    @cached_property
    def trees(self) -> tuple:
        """Per channel: its XNOR-popcount over its positions with the channel's constant weights
        there (a channel equal to its parent counts nothing: one lane of weight 1, fed a 0)."""
        return tuple(self.popcount.plan(len(d), self.weights[c, d], self.reg_every) if len(d)
                     else self.popcount.plan(1, np.ones(1, np.uint8), self.reg_every)
                     for c, d in enumerate(self.deltas))

    @property
    def xnors(self) -> int:
        return int(sum(len(d) for d in self.deltas))

    @property
    def tree_latency(self) -> int:
        return max(t.latency for t in self.trees)

    @property
    def pop_bits(self) -> int:
        """Width of a channel's registered popcount."""
        return self.k.bit_length() + 1

    @property
    def cycles_per_vector(self) -> int:
        return 1

    @property
    def credits(self) -> int:
        """Output queue entries that let a vector enter every cycle while the queue drains: every
        result in flight has its entry."""
        return self.latency + 2

    @property
    def queue(self) -> FifoPlan:
        return FifoPlan(self.o_width, max(self.out_depth or 0, self.credits) + 1)

    @property
    def latency(self) -> int:
        """Cycles from offering a vector to its result being offered: input register, trees, the
        roots' stage, one stage per depth level below it, the output queue."""
        return 1 + self.tree_latency + 1 + self.schedule.max_depth + FifoPlan.latency

    @property
    def register_bits(self) -> int:
        """As elaborated: the input register and its valid, per vector each tree and its padding to
        the common latency, per channel its bit at its level (and its count, if it has children),
        the waiting partial counts and bits; the valids beside them; the credit counter and the
        output queue."""
        lat, depths, dmax = self.tree_latency, self.schedule.depths, self.schedule.max_depth
        parents = set(self.schedule.parents)
        trees = sum(t.register_bits + (lat - t.latency) * t.out_width for t in self.trees)
        waiting = sum(d * t.out_width + (dmax - d) for d, t in zip(depths, self.trees, strict=True))
        per_vector = trees + self.o + sum(self.pop_bits for c in range(self.o) if c in parents) + waiting
        return (self.vectors * (self.k + per_vector) + 1 + lat + dmax + 1
                + range_bits(self.queue.entries + 1) + 1 + self.queue.register_bits)

    @property
    def memory_bits(self) -> int:
        return self.queue.memory_bits
