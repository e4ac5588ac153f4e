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
    path), and a beat passes every cycle. A wide queue in LUT RAM is split into read slices
    (:attr:`~hw.plan.stream.FifoPlan.read_slices`), each with its own read pointer and flags, so no
    read enable spans the whole output register.

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
        slices = self.plan.read_slices
        produce, consume = Signal(range(inner)), Signal(range(inner))
        level = Signal(range(inner + 1))
        do_write = Signal()
        do_read = Signal()
        m.d.comb += [
            self.i.ready.eq(level != inner),
            do_write.eq(self.i.valid & self.i.ready),
            do_read.eq((level != 0) & (~self.o.valid | self.o.ready)),
        ]
        # slice 0 reads under the queue's own pointer and flags; each further slice under its own
        # copies (``keep``: Yosys would merge identical registers), which stay equal to them
        reads = [(consume, self.o.valid, do_read)]
        if len(slices) > 1:
            nonempty_next = Signal()  # the level after this cycle is not zero
            m.d.comb += nonempty_next.eq(do_write | Mux(do_read, level > 1, level != 0))
        for k in range(1, len(slices)):
            nonempty = Signal(name=f"nonempty_{k}", attrs={"keep": 1})
            valid = Signal(name=f"valid_{k}", attrs={"keep": 1})
            read = Signal(name=f"read_{k}")
            m.d.sync += nonempty.eq(nonempty_next)
            m.d.comb += read.eq(nonempty & (~valid | self.o.ready))
            reads.append((Signal(range(inner), name=f"consume_{k}", attrs={"keep": 1}), valid, read))
        for k, ((lo, hi), (ptr, _, read)) in enumerate(zip(slices, reads, strict=True)):
            mem = Memory(shape=hi - lo, depth=inner, init=[], attrs={"ram_style": str(self.plan.style)})
            m.submodules["storage" if k == 0 else f"storage_{k}"] = mem
            wp, rp = mem.write_port(), mem.read_port()
            m.d.comb += [wp.addr.eq(produce), wp.data.eq(self.i.payload[lo:hi]), wp.en.eq(do_write),
                         rp.addr.eq(ptr), rp.en.eq(read), self.o.payload[lo:hi].eq(rp.data)]
        with m.If(do_write):
            m.d.sync += produce.eq(Mux(produce == inner - 1, 0, produce + 1))
        for ptr, valid, read in reads:
            with m.If(read):
                m.d.sync += [ptr.eq(Mux(ptr == inner - 1, 0, ptr + 1)), valid.eq(1)]
            with m.Elif(self.o.ready):
                m.d.sync += valid.eq(0)
        with m.If(do_write & ~do_read):
            m.d.sync += level.eq(level + 1)
        with m.If(do_read & ~do_write):
            m.d.sync += level.eq(level - 1)
        return m
