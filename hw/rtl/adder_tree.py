from amaranth import Module, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..errors import BitfoldError

__all__ = ["AdderTree", "tree_latency"]


def tree_latency(n: int, reg_every: int) -> int:
    """Register stages of an :class:`AdderTree` over ``n`` terms."""
    levels = max(0, (n - 1).bit_length())
    return -(-levels // reg_every) if reg_every else 0


class AdderTree(wiring.Component):
    """Pipelined balanced adder tree: the sum of ``n`` terms.

    A balanced tree has depth ``ceil(log2 n)``, where Python's ``sum`` would build a chain of
    ``n - 1`` adders (slow logic and a RecursionError near 800 terms). A pipeline register follows
    every ``reg_every`` levels; every register loads only when ``en`` is high, so a stall freezes
    the whole tree. Each level's results are named signals, so the Verilog stays linear in ``n``.

    Parameters
    ----------
    n : int
        Number of terms (>= 1).
    term_width : int
        Bits per term.
    signed_terms : bool
        Terms are two's complement.
    reg_every : int
        Levels per pipeline stage; 0 builds a purely combinational tree.

    Members
    -------
    terms : ``In(n * term_width)``
        Term ``j`` in bits ``[j*term_width, (j+1)*term_width)``.
    en : ``In(1)``
        Pipeline enable.
    sum : ``Out(out_shape)``
        The sum, ``latency`` cycles (enabled edges) after its terms.
    """

    def __init__(self, n: int, term_width: int, signed_terms: bool = False, reg_every: int = 2):
        if not isinstance(n, int) or n < 1:
            raise BitfoldError(f"AdderTree needs at least one term, not {n!r}")
        if not isinstance(term_width, int) or term_width < 1:
            raise BitfoldError(f"AdderTree term width must be a positive integer, not {term_width!r}")
        self.n, self.term_width, self.signed_terms, self.reg_every = n, term_width, signed_terms, reg_every
        if signed_terms:
            lo, hi = -(2 ** (term_width - 1)) * n, (2 ** (term_width - 1) - 1) * n
            self.out_shape = signed(max(hi.bit_length(), (-lo - 1).bit_length()) + 1)
        else:
            self.out_shape = unsigned(((2**term_width - 1) * n).bit_length())
        super().__init__({"terms": In(n * term_width), "en": In(1), "sum": Out(self.out_shape)})

    @property
    def latency(self) -> int:
        return tree_latency(self.n, self.reg_every)

    def elaborate(self, platform):
        m = Module()
        shape = signed(self.term_width) if self.signed_terms else unsigned(self.term_width)
        level = []
        for j in range(self.n):
            t = Signal(shape, name=f"t{j}")
            m.d.comb += t.eq(self.terms[j * self.term_width:(j + 1) * self.term_width])
            level.append(t)
        depth = 0
        while len(level) > 1:
            depth += 1
            registered = self.reg_every and depth % self.reg_every == 0
            nxt = []
            for j in range(0, len(level), 2):
                if j + 1 < len(level):
                    expr = level[j] + level[j + 1]
                else:
                    expr = level[j]
                s = Signal(expr.shape(), name=f"l{depth}_{j // 2}")
                if registered:
                    with m.If(self.en):
                        m.d.sync += s.eq(expr)
                else:
                    m.d.comb += s.eq(expr)
                nxt.append(s)
            level = nxt
        # a final partial stage, so the latency is ceil(levels / reg_every)
        if self.reg_every and depth % self.reg_every:
            s = Signal(level[0].shape(), name="l_out")
            with m.If(self.en):
                m.d.sync += s.eq(level[0])
            level = [s]
        m.d.comb += self.sum.eq(level[0])
        return m
