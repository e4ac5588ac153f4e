from amaranth import Cat, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..plan.board import IMAGE, RESULT, BridgePlan
from .uart import UartRx, UartTx

__all__ = ["UartBridge"]


class UartBridge(wiring.Component):
    """A UART link to an AXI4-Stream core (:class:`~hw.plan.board.BridgePlan`: frames and sizes).

    Image frames from ``rx`` become input beats on ``s_axis_*`` (``tlast`` on each image's last
    beat); every result beat taken from ``m_axis_*`` leaves on ``tx`` as a result frame.

    Members
    -------
    rx : ``In(1, init=1)``; tx : ``Out(1, init=1)``
    s_axis_tdata : ``Out(8 * s_bytes)``; ``s_axis_tvalid``, ``s_axis_tlast`` : ``Out(1)``;
    s_axis_tready : ``In(1)``
    m_axis_tdata : ``In(8 * m_bytes)``; ``m_axis_tvalid``, ``m_axis_tlast`` : ``In(1)``;
    m_axis_tready : ``Out(1)``
    """

    def __init__(self, plan: BridgePlan):
        self.plan = plan
        super().__init__({
            "rx": In(1, init=1), "tx": Out(1, init=1),
            "s_axis_tdata": Out(8 * plan.s_bytes), "s_axis_tvalid": Out(1), "s_axis_tready": In(1),
            "s_axis_tlast": Out(1),
            "m_axis_tdata": In(8 * plan.m_bytes), "m_axis_tvalid": In(1), "m_axis_tready": Out(1),
            "m_axis_tlast": In(1),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.plan
        m.submodules.rx = rx = UartRx(p.uart)
        m.submodules.tx = tx = UartTx(p.uart)
        m.d.comb += [rx.rx.eq(self.rx), self.tx.eq(tx.tx), rx.o.ready.eq(1)]

        # image frames -> input beats
        got = rx.o.valid
        byte = rx.o.payload
        acc = Signal(8 * p.s_bytes)  # the beat so far; each byte enters at the top
        nbyte = Signal(range(p.s_bytes))
        nbeat = Signal(range(p.beats))
        taken = self.s_axis_tvalid & self.s_axis_tready
        with m.If(taken):
            m.d.sync += self.s_axis_tvalid.eq(0)
        with m.FSM(name="image"):
            with m.State("WAIT"):
                with m.If(got & (byte == IMAGE)):
                    m.d.sync += [nbyte.eq(0), nbeat.eq(0)]
                    m.next = "BEATS"
            with m.State("BEATS"):
                with m.If(got):
                    whole = Cat(acc[8:], byte) if p.s_bytes > 1 else byte
                    m.d.sync += [acc.eq(whole), nbyte.eq(nbyte + 1)]
                    with m.If(nbyte == p.s_bytes - 1):
                        last = nbeat == p.beats - 1
                        m.d.sync += [self.s_axis_tdata.eq(whole), self.s_axis_tvalid.eq(1),
                                     self.s_axis_tlast.eq(last), nbyte.eq(0), nbeat.eq(nbeat + 1)]
                        with m.If(last):
                            m.next = "WAIT"

        # result beats -> result frames
        result = Signal(8 * p.m_bytes)
        left = Signal(range(p.m_bytes + 1))
        with m.FSM(name="result"):
            with m.State("IDLE"):
                m.d.comb += self.m_axis_tready.eq(1)
                with m.If(self.m_axis_tvalid):
                    m.d.sync += [result.eq(self.m_axis_tdata), left.eq(p.m_bytes)]
                    m.next = "HEAD"
            with m.State("HEAD"):
                m.d.comb += [tx.i.payload.eq(RESULT), tx.i.valid.eq(1)]
                with m.If(tx.i.ready):
                    m.next = "BODY"
            with m.State("BODY"):
                m.d.comb += [tx.i.payload.eq(result[:8]), tx.i.valid.eq(1)]
                with m.If(tx.i.ready):
                    m.d.sync += [result.eq(result >> 8), left.eq(left - 1)]
                    with m.If(left == 1):
                        m.next = "IDLE"
        return m
