from amaranth import Cat, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.cdc import FFSynchronizer
from amaranth.lib.wiring import In, Out

from ..plan.board import UartPlan

__all__ = ["UartTx", "UartRx"]


class UartTx(wiring.Component):
    """UART transmitter, 8N1, least significant bit first (:class:`~hw.plan.board.UartPlan`).

    Members
    -------
    i : ``In(stream.Signature(8))``
        A byte is taken when the transmitter is idle; it then sends for ``10 * divisor`` cycles.
    tx : ``Out(1, init=1)``
        The line, high when idle.
    """

    def __init__(self, plan: UartPlan):
        self.plan = plan
        super().__init__({"i": In(stream.Signature(8)), "tx": Out(1, init=1)})

    def elaborate(self, platform):
        m = Module()
        div = self.plan.divisor
        shift = Signal(10, init=0x3FF)  # start bit, 8 data bits, stop bit; shifted out from bit 0
        bits = Signal(range(11))  # bits left to send
        timer = Signal(range(div))
        m.d.comb += [self.tx.eq(shift[0]), self.i.ready.eq(bits == 0)]
        with m.If(self.i.valid & self.i.ready):
            m.d.sync += [shift.eq(Cat(0, self.i.payload, 1)), bits.eq(10), timer.eq(div - 1)]
        with m.Elif(bits != 0):
            with m.If(timer == 0):
                m.d.sync += [shift.eq(Cat(shift[1:], 1)), bits.eq(bits - 1), timer.eq(div - 1)]
            with m.Else():
                m.d.sync += timer.eq(timer - 1)
        return m


class UartRx(wiring.Component):
    """UART receiver, 8N1, least significant bit first (:class:`~hw.plan.board.UartPlan`): the line
    goes through a two-register synchronizer, each bit is sampled in its middle, a byte whose stop
    bit is low (a framing error, or a break) is dropped, and the line must go high again before the
    next start bit counts.

    No back-pressure: the UART has none. ``o.valid`` is high for one cycle per byte.

    Members
    -------
    rx : ``In(1, init=1)``
    o : ``Out(stream.Signature(8))``
    """

    def __init__(self, plan: UartPlan):
        self.plan = plan
        super().__init__({"rx": In(1, init=1), "o": Out(stream.Signature(8))})

    def elaborate(self, platform):
        m = Module()
        div = self.plan.divisor
        line = Signal(init=1)
        m.submodules.sync_rx = FFSynchronizer(self.rx, line, init=1)
        timer = Signal(range(div + div // 2))
        bit = Signal(range(9))
        data = Signal(8)
        m.d.sync += self.o.valid.eq(0)
        with m.FSM(name="rx"):
            with m.State("IDLE"):
                with m.If(~line):  # a start bit: first sample at the middle of data bit 0
                    m.d.sync += [timer.eq(div + div // 2 - 1), bit.eq(0)]
                    m.next = "DATA"
            with m.State("DATA"):
                with m.If(timer != 0):
                    m.d.sync += timer.eq(timer - 1)
                with m.Else():
                    m.d.sync += [data.eq(Cat(data[1:], line)), bit.eq(bit + 1), timer.eq(div - 1)]
                    with m.If(bit == 7):
                        m.next = "STOP"
            with m.State("STOP"):
                with m.If(timer != 0):
                    m.d.sync += timer.eq(timer - 1)
                with m.Else():
                    m.d.sync += [self.o.payload.eq(data), self.o.valid.eq(line)]
                    m.next = "IDLE"
                    with m.If(~line):
                        m.next = "BREAK"
            with m.State("BREAK"):  # a low stop bit: the rest of it (or a break) is no start bit
                with m.If(line):
                    m.next = "IDLE"
        return m
