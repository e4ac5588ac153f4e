from amaranth import Cat, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..errors import BitfoldError

__all__ = ["Gather"]


class Gather(wiring.Component):
    """Stream width converter, narrow to wide: ``count`` beats of ``width`` bits become one beat.

    The first beat lands in the least significant bits (a flattened feature map in arrival order).
    Beats shift into a collecting register; the completed vector moves to the output register, so
    the next vector collects while this one waits: one input beat per cycle, no bubble.

    Members
    -------
    i : ``In(stream.Signature(width))``
    o : ``Out(stream.Signature(width * count))``
    """

    def __init__(self, width: int, count: int):
        if width < 1 or count < 1:
            raise BitfoldError(f"Gather needs a positive width and count, not {width} and {count}")
        self.width, self.count = int(width), int(count)
        super().__init__({"i": In(stream.Signature(self.width)), "o": Out(stream.Signature(self.width * self.count))})

    @property
    def register_bits(self) -> int:
        return self.width * (2 * self.count - 1) + max(1, (self.count - 1).bit_length()) + 1

    memory_bits = 0

    def elaborate(self, platform):
        m = Module()
        w, n = self.width, self.count
        with m.If(self.o.ready):
            m.d.sync += self.o.valid.eq(0)
        if n == 1:
            m.d.comb += self.i.ready.eq(~self.o.valid | self.o.ready)
            with m.If(self.i.valid & self.i.ready):
                m.d.sync += [self.o.valid.eq(1), self.o.payload.eq(self.i.payload)]
            return m
        buf = Signal(w * (n - 1))
        idx = Signal(range(n))
        last = Signal()
        m.d.comb += last.eq(idx == n - 1)
        m.d.comb += self.i.ready.eq(~last | ~self.o.valid | self.o.ready)
        with m.If(self.i.valid & self.i.ready):
            m.d.sync += idx.eq(idx + 1)
            with m.If(last):
                m.d.sync += [self.o.valid.eq(1), self.o.payload.eq(Cat(buf, self.i.payload)), idx.eq(0)]
            with m.Else():
                m.d.sync += buf.eq(Cat(buf[w:], self.i.payload) if n > 2 else self.i.payload)
        return m
