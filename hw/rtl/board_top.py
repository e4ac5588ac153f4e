from amaranth import ClockDomain, ClockSignal, Elaboratable, Instance, Module, Signal, Value
from amaranth.lib import io, wiring
from amaranth.lib.cdc import FFSynchronizer
from amaranth.lib.wiring import In, Out

from ..plan.board import BridgePlan, PllPlan
from .bridge import UartBridge

__all__ = ["BoardTop", "BoardSimTop", "POWER_ON_CYCLES"]

#: Cycles the core's ``ap_rst_n`` is held low after configuration (board clock domains are
#: reset-less: the registers start from their configured values).
POWER_ON_CYCLES = 16

_TO_CORE = ("s_axis_tdata", "s_axis_tvalid", "s_axis_tlast", "m_axis_tready")
_FROM_CORE = ("s_axis_tready", "m_axis_tdata", "m_axis_tvalid", "m_axis_tlast")


def _bridged_core(m: Module, plan: BridgePlan, top: str, ready=1) -> UartBridge:
    """A :class:`UartBridge` wired to an instance of the compiled AXI4-Stream core (module ``top``),
    whose ``ap_rst_n`` comes from a power-on counter that starts once ``ready`` (a PLL's lock) is
    high; returns the bridge (its ``rx``/``tx`` are left to the caller)."""
    m.submodules.bridge = bridge = UartBridge(plan)
    ports = {f"i_{n}": getattr(bridge, n) for n in _TO_CORE} | {f"o_{n}": getattr(bridge, n) for n in _FROM_CORE}
    count = Signal(range(POWER_ON_CYCLES + 1), init=POWER_ON_CYCLES)
    with m.If(~Value.cast(ready)):
        m.d.sync += count.eq(POWER_ON_CYCLES)
    with m.Elif(count != 0):
        m.d.sync += count.eq(count - 1)
    m.submodules.core = Instance(top, i_ap_clk=ClockSignal(), i_ap_rst_n=count == 0, **ports)
    return bridge


class BoardTop(Elaboratable):
    """The top of a board build: the board's UART (resource ``uart`` 0) through a
    :class:`UartBridge` to the compiled AXI4-Stream core, instantiated from its Verilog (module
    ``top``, text ``verilog``, added to the build as it is: the bitstream holds exactly the RTL
    that was simulated), reset by a power-on counter (:data:`POWER_ON_CYCLES`) and clocked by the
    board's oscillator, or with ``pll`` by a PLL from it (the counter then starts at its lock)."""

    def __init__(self, plan: BridgePlan, top: str, verilog: str, pll: PllPlan | None = None):
        self.plan, self.top, self.verilog, self.pll = plan, top, verilog, pll

    def elaborate(self, platform):
        m = Module()
        locked = 1
        if self.pll is not None:
            locked = self._pll(m, platform)
        bridge = _bridged_core(m, self.plan, self.top, locked)
        uart = platform.request("uart", 0)
        m.d.comb += [bridge.rx.eq(uart.rx.i), uart.tx.o.eq(bridge.tx)]
        platform.add_file(f"{self.top}.v", self.verilog)
        return m

    def _pll(self, m: Module, platform):
        """The ``sync`` domain on the PLL's output, from the board's clock pin; returns its lock."""
        p = self.pll
        m.domains.sync = ClockDomain("sync", reset_less=True)
        pin = platform.request(platform.default_clk, dir="-")
        locked, clk = Signal(), Signal()
        m.d.comb += ClockSignal("sync").eq(clk)
        params = {f"p_{k}": v for k, v in p.params}
        if p.family == "ecp5":
            m.submodules.clk_buf = buf = io.Buffer("i", pin)
            div = dict(p.params)["CLKOP_DIV"]
            m.submodules.pll = Instance(
                "EHXPLLL", a_FREQUENCY_PIN_CLKI=f"{p.in_hz / 1e6:g}", a_FREQUENCY_PIN_CLKOP=f"{p.out_hz / 1e6:.4f}",
                a_ICP_CURRENT="12", a_LPF_RESISTOR="8", a_MFG_ENABLE_FILTEROPAMP="1", a_MFG_GMCREF_SEL="2",
                p_PLLRST_ENA="DISABLED", p_INTFB_WAKE="DISABLED", p_STDBY_ENABLE="DISABLED",
                p_DPHASE_SOURCE="DISABLED", p_OUTDIVIDER_MUXA="DIVA", p_CLKOP_ENABLE="ENABLED",
                p_CLKOP_CPHASE=div - 1, p_CLKOP_FPHASE=0, p_FEEDBK_PATH="CLKOP", **params,
                i_RST=0, i_STDBY=0, i_CLKI=buf.i, o_CLKOP=clk, i_CLKFB=clk,
                i_PHASESEL0=0, i_PHASESEL1=0, i_PHASEDIR=1, i_PHASESTEP=1, i_PHASELOADREG=1, i_PLLWAKESYNC=0,
                i_ENCLKOP=0, o_LOCK=locked)
        else:  # the iCE40 PLL takes the oscillator straight from its pad
            m.submodules.pll = Instance(
                "SB_PLL40_PAD", p_FEEDBACK_PATH="SIMPLE", **params, io_PACKAGEPIN=pin.io,
                i_RESETB=1, i_BYPASS=0, o_PLLOUTGLOBAL=clk, o_LOCK=locked)
        platform.add_clock_constraint(clk, p.out_hz)
        m.submodules.lock_sync = FFSynchronizer(locked, ready := Signal())  # LOCK is asynchronous
        return ready


class BoardSimTop(wiring.Component):
    """:class:`BoardTop` without a platform, for simulation: the same bridge, core instance and
    power-on reset, with the UART lines as ports (the core's Verilog is compiled beside it).

    Members
    -------
    rx : ``In(1, init=1)``; tx : ``Out(1, init=1)``
    """

    def __init__(self, plan: BridgePlan, top: str):
        self.plan, self.top = plan, top
        super().__init__({"rx": In(1, init=1), "tx": Out(1, init=1)})

    def elaborate(self, platform):
        m = Module()
        bridge = _bridged_core(m, self.plan, self.top)
        m.d.comb += [bridge.rx.eq(self.rx), self.tx.eq(bridge.tx)]
        return m
