from amaranth import Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ..errors import BitfoldError

__all__ = ["StreamFIFO", "memory_style"]


def memory_style(depth: int, width: int, read_only: bool) -> str:
    """How a memory is mapped, fixed in the RTL (Yosys ``ram_style``/``rom_style``) so synthesis
    does not choose, and estimates of block RAM are exact. Weight ROMs of up to 64 words become
    logic (a LUT6 per output bit holds 64 words); larger ones block RAM. FIFOs of up to 64 entries
    or 2 kbit use distributed (LUT) RAM, larger ones block RAM."""
    if read_only:
        return "logic" if depth <= 64 else "block"
    return "distributed" if depth <= 64 or depth * width <= 2048 else "block"


class StreamFIFO(wiring.Component):
    """A first-in first-out queue between two stages, in memory.

    Sized to hold a whole image of the feature map on its link, it decouples neighbouring layers:
    a layer that is fast on some rows and slow on others (a convolution reading rows its
    predecessor has not finished) no longer stalls the other, so the pipeline runs at its slowest
    layer's rate. ``depth - 1`` entries live in a memory with a synchronous read port whose data
    register is the output; both ``i.ready`` and ``o.valid`` come from registers (cutting the ready
    path), and a beat passes every cycle.

    Members
    -------
    i : ``In(stream.Signature(width))``
    o : ``Out(stream.Signature(width))``
    """

    def __init__(self, width: int, depth: int):
        if depth < 3:
            raise BitfoldError(f"StreamFIFO depth must be at least 3, not {depth}")
        self.width, self.depth = int(width), int(depth)
        self.style = memory_style(self.depth - 1, self.width, read_only=False)
        super().__init__({"i": In(stream.Signature(self.width)), "o": Out(stream.Signature(self.width))})

    @property
    def register_bits(self) -> int:
        """The pointers, the level and the valid flag (the read data register is the memory's)."""
        return 3 * (self.depth - 1).bit_length() + 1 + 1

    @property
    def memory_bits(self) -> int:
        return (self.depth - 1) * self.width

    latency = 2

    def elaborate(self, platform):
        m = Module()
        inner = self.depth - 1
        m.submodules.storage = mem = Memory(shape=self.width, depth=inner, init=[],
                                            attrs={"ram_style": self.style})
        wp, rp = mem.write_port(), mem.read_port()
        produce, consume = Signal(range(inner)), Signal(range(inner))
        level = Signal(range(inner + 1))
        do_write = Signal()
        do_read = Signal()
        m.d.comb += [
            self.i.ready.eq(level != inner),
            do_write.eq(self.i.valid & self.i.ready),
            do_read.eq((level != 0) & (~self.o.valid | self.o.ready)),
            wp.addr.eq(produce), wp.data.eq(self.i.payload), wp.en.eq(do_write),
            rp.addr.eq(consume), rp.en.eq(do_read), self.o.payload.eq(rp.data),
        ]
        with m.If(do_write):
            m.d.sync += produce.eq(Mux(produce == inner - 1, 0, produce + 1))
        with m.If(do_read):
            m.d.sync += [consume.eq(Mux(consume == inner - 1, 0, consume + 1)), self.o.valid.eq(1)]
        with m.Elif(self.o.ready):
            m.d.sync += self.o.valid.eq(0)
        with m.If(do_write & ~do_read):
            m.d.sync += level.eq(level + 1)
        with m.If(do_read & ~do_write):
            m.d.sync += level.eq(level - 1)
        return m
