from amaranth import C, Cat, ClockDomain, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.fifo import SyncFIFO
from amaranth.lib.wiring import In, Out

from ..plan.interface import AxisPlan
from ..plan.stream import SkidPlan
from .skid import SkidBuffer

__all__ = ["AxisTop"]


class AxisTop(wiring.Component):
    """AXI4-Stream top around a stream core (:class:`~hw.plan.interface.AxisPlan`: ports, beat
    layouts, what a misplaced ``tlast`` does).

    The core runs in this module's own ``sync`` domain, clocked by ``ap_clk`` and reset while
    ``ap_rst_n`` is low (synchronously), so the converted top has no ``clk``/``rst`` ports.

    Parameters
    ----------
    core : wiring.Component
        With ``i: In(stream.Signature(beat_bits))`` and ``o: Out(stream.Signature(out_bits))``.
    plan : AxisPlan

    Members
    -------
    ap_clk, ap_rst_n : ``In(1)``
    s_axis_tdata : ``In(plan.s_tdata_bits)``; ``s_axis_tvalid``, ``s_axis_tlast`` : ``In(1)``;
    s_axis_tready : ``Out(1)``
    m_axis_tdata : ``Out(plan.m_tdata_bits)``; ``m_axis_tvalid``, ``m_axis_tlast`` : ``Out(1)``;
    m_axis_tready : ``In(1)``
    """

    def __init__(self, core, plan: AxisPlan):
        self.core, self.plan = core, plan
        if core.i.payload.shape().width != plan.beat_bits or core.o.payload.shape().width != plan.out_bits:
            raise ValueError(f"the core's beats ({core.i.payload.shape().width} in, {core.o.payload.shape().width} "
                             f"out) are not the plan's ({plan.beat_bits} in, {plan.out_bits} out)")
        super().__init__({
            "ap_clk": In(1), "ap_rst_n": In(1),
            "s_axis_tdata": In(plan.s_tdata_bits), "s_axis_tvalid": In(1), "s_axis_tready": Out(1),
            "s_axis_tlast": In(1),
            "m_axis_tdata": Out(plan.m_tdata_bits), "m_axis_tvalid": Out(1), "m_axis_tready": In(1),
            "m_axis_tlast": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.plan
        cd = ClockDomain("sync", local=True)
        m.domains.sync = cd
        m.d.comb += [cd.clk.eq(self.ap_clk), cd.rst.eq(~self.ap_rst_n)]
        m.submodules.core = core = self.core
        m.submodules.flags = flags = SyncFIFO(width=1, depth=p.flag_depth)
        m.submodules.in_skid = in_skid = SkidBuffer(SkidPlan(p.beat_bits))
        m.submodules.out_skid = out_skid = SkidBuffer(SkidPlan(p.out_bits + 1))
        wiring.connect(m, in_skid.o, core.i)
        feed = in_skid.i  # the framing below feeds the core through the input slice

        # beats of the current image fed to the core (none for a whole image a beat: a counter of
        # one value would be a zero-width signal in the Verilog, which lint rejects)
        count = Signal(range(p.beats)) if p.beats > 1 else None
        last = count == p.beats - 1 if count is not None else C(1, 1)
        room = ~last | flags.w_rdy  # an image's last beat needs a place for its error bit
        fed = feed.valid & feed.ready
        tlast = self.s_axis_tlast
        with m.If(fed):
            if count is not None:
                m.d.sync += count.eq(Mux(last, 0, count + 1))
            m.d.comb += flags.w_en.eq(last)

        with m.FSM(name="framing"):
            with m.State("PASS"):
                m.d.comb += [feed.payload.eq(self.s_axis_tdata[:p.beat_bits]),
                             feed.valid.eq(self.s_axis_tvalid & room),
                             self.s_axis_tready.eq(feed.ready & room),
                             flags.w_data.eq(~tlast)]
                with m.If(fed & last & ~tlast):
                    m.next = "DROP"
                with m.Elif(fed & ~last & tlast):
                    m.next = "PAD"
            with m.State("PAD"):  # the image ended early: zeros up to its last beat
                m.d.comb += [feed.payload.eq(0), feed.valid.eq(room), flags.w_data.eq(1)]
                with m.If(fed & last):
                    m.next = "PASS"
            with m.State("DROP"):  # the image ran long: take and drop beats up to a tlast
                m.d.comb += self.s_axis_tready.eq(1)
                with m.If(self.s_axis_tvalid & tlast):
                    m.next = "PASS"

        pad = p.m_tdata_bits - p.out_bits - 1
        m.d.comb += [out_skid.i.payload.eq(Cat(core.o.payload, flags.r_data)),
                     out_skid.i.valid.eq(core.o.valid),
                     core.o.ready.eq(out_skid.i.ready),
                     flags.r_en.eq(core.o.valid & out_skid.i.ready),
                     self.m_axis_tdata.eq(Cat(out_skid.o.payload, C(0, pad))),
                     self.m_axis_tvalid.eq(out_skid.o.valid),
                     out_skid.o.ready.eq(self.m_axis_tready),
                     self.m_axis_tlast.eq(1)]
        return m
