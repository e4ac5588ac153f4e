"""The shape of a pipelined balanced adder tree (built by :class:`hw.rtl.adder_tree.AdderTree`)."""

from dataclasses import dataclass
from functools import cached_property

from ..errors import BitfoldError

__all__ = ["AdderTreePlan"]


@dataclass(frozen=True)
class AdderTreePlan:
    """A balanced tree of two-input adders over ``n`` terms of ``term_width`` bits.

    Level ``d`` adds neighbouring pairs of level ``d - 1`` (an odd last term passes through); a sum
    is one bit wider than its wider operand. A pipeline register follows every ``reg_every``
    levels, and a final register closes a partial stage, so the latency is
    ``ceil(levels / reg_every)`` (``reg_every = 0``: combinational). Balanced, not Python's
    left-deep ``sum``: depth ``ceil(log2 n)`` instead of ``n - 1``.
    """

    n: int
    term_width: int
    signed: bool = False
    reg_every: int = 2

    def __post_init__(self):
        if not isinstance(self.n, int) or self.n < 1:
            raise BitfoldError(f"AdderTree needs at least one term, not {self.n!r}")
        if not isinstance(self.term_width, int) or self.term_width < 1:
            raise BitfoldError(f"AdderTree term width must be a positive integer, not {self.term_width!r}")

    @cached_property
    def levels(self) -> tuple:
        """Per level after the terms: ``(widths of its values, registered?, adder result widths)``;
        a closing register stage appears as a level of one pass-through value."""
        widths, depth, out = [self.term_width] * self.n, 0, []
        while len(widths) > 1:
            depth += 1
            nxt, adders = [], []
            for j in range(0, len(widths), 2):
                if j + 1 < len(widths):
                    nxt.append(max(widths[j], widths[j + 1]) + 1)
                    adders.append(nxt[-1])
                else:
                    nxt.append(widths[j])
            widths = nxt
            out.append((tuple(widths), bool(self.reg_every) and depth % self.reg_every == 0, tuple(adders)))
        if self.reg_every and depth % self.reg_every:
            out.append((tuple(widths), True, ()))
        return tuple(out)

    @property
    def depth(self) -> int:
        """Adder levels: ``ceil(log2 n)``."""
        return max(0, (self.n - 1).bit_length())

    @property
    def latency(self) -> int:
        """Register stages from the terms to the sum."""
        return -(-self.depth // self.reg_every) if self.reg_every else 0

    @property
    def register_bits(self) -> int:
        return sum(sum(widths) for widths, registered, _ in self.levels if registered)

    @property
    def adder_bits(self) -> int:
        """Sum of the result widths of every adder (the estimator's measure of a tree's logic)."""
        return sum(sum(adders) for _, _, adders in self.levels)

    @property
    def out_width(self) -> int:
        """Width of the sum: enough for every reachable total (two's complement when signed)."""
        if self.signed:
            lo, hi = -(2 ** (self.term_width - 1)) * self.n, (2 ** (self.term_width - 1) - 1) * self.n
            return max(hi.bit_length(), (-lo - 1).bit_length()) + 1
        return ((2**self.term_width - 1) * self.n).bit_length()
