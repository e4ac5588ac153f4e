from amaranth import Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from ..plan.stream import FifoPlan

__all__ = ["StreamFIFO"]


class StreamFIFO(wiring.Component):
    """A first-in first-out queue between two stages, in memory (:class:`~hw.plan.stream.FifoPlan`).

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

    def __init__(self, plan: FifoPlan):
        self.plan = plan
        super().__init__({"i": In(stream.Signature(plan.width)), "o": Out(stream.Signature(plan.width))})

    def elaborate(self, platform):
        m = Module()
        inner = self.plan.entries
        m.submodules.storage = mem = Memory(shape=self.plan.width, depth=inner, init=[],
                                            attrs={"ram_style": str(self.plan.style)})
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
