"""Run a stream component in the Amaranth simulator: beats in, beats out."""

from amaranth import ClockDomain, ClockSignal, Elaboratable, Module, ResetSignal
from amaranth.sim import Simulator

from .stream import Gaps, amaranth_get, amaranth_put

__all__ = ["run_stream", "trace_axis", "AXIS_SIGNALS"]

#: The handshake and framing signals :func:`trace_axis` records, in display order.
AXIS_SIGNALS = ("s_axis_tvalid", "s_axis_tready", "s_axis_tlast", "m_axis_tvalid", "m_axis_tready", "m_axis_tlast")


def run_stream(dut, beats, n_out, in_gaps: Gaps | None = None, out_gaps: Gaps | None = None,
               vcd=None, max_cycles=None, cycles=None) -> list:
    """Drive ``beats`` into ``dut.i`` and collect ``n_out`` beats from ``dut.o``.

    ``max_cycles`` bounds the run (a hung design fails instead of spinning); ``cycles``, if a
    list, receives the cycle of each output beat.
    """
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    out = []

    async def source(ctx):
        await amaranth_put(ctx, dut.i, beats, in_gaps)

    async def sink(ctx):
        out.extend(await amaranth_get(ctx, dut.o, n_out, out_gaps, cycles))

    sim.add_testbench(source, background=True)
    sim.add_testbench(sink)
    if max_cycles is not None:
        async def watchdog(ctx):
            for _ in range(max_cycles):
                await ctx.tick()
            raise TimeoutError(f"no {n_out} output beats after {max_cycles} cycles ({len(out)} so far)")
        sim.add_testbench(watchdog, background=True)
    if vcd:
        with sim.write_vcd(vcd):
            sim.run()
    else:
        sim.run()
    return out


class _Clocked(Elaboratable):
    """An AXI4-Stream top (its own ``ap_clk``/``ap_rst_n`` and a local ``sync`` domain) on the
    simulator's clock, domain ``tb``."""

    def __init__(self, top):
        self.top = top

    def elaborate(self, platform):
        m = Module()
        m.submodules.top = self.top
        m.domains.tb = ClockDomain("tb")
        m.d.comb += [self.top.ap_clk.eq(ClockSignal("tb")), self.top.ap_rst_n.eq(~ResetSignal("tb"))]
        return m


def trace_axis(top, images, in_gaps: Gaps | None = None, out_gaps: Gaps | None = None, max_cycles=200_000):
    """Stream ``images`` (each a list of ``s_axis_tdata`` beats; the last carries ``tlast``, so a
    list shorter or longer than the plan's image is a misframed image) through an
    :class:`~hw.rtl.axis.AxisTop` in the Amaranth simulator, with random ``tvalid`` gaps and
    ``tready`` back-pressure. Returns ``(results, trace)``: each result beat's ``m_axis_tdata``, and
    ``{signal: [value at every cycle]}`` of :data:`AXIS_SIGNALS`."""
    sim = Simulator(_Clocked(top))
    sim.add_clock(1e-8, domain="tb")
    results, trace = [], {name: [] for name in AXIS_SIGNALS}

    async def source(ctx):
        for beats in images:
            for k, beat in enumerate(beats):
                while in_gaps is not None and in_gaps.skip():
                    await ctx.tick("tb")
                ctx.set(top.s_axis_tdata, beat)
                ctx.set(top.s_axis_tlast, k == len(beats) - 1)
                ctx.set(top.s_axis_tvalid, 1)
                await ctx.tick("tb").until(top.s_axis_tready)
                ctx.set(top.s_axis_tvalid, 0)

    async def sink(ctx):
        for _ in range(max_cycles):
            ctx.set(top.m_axis_tready, not (out_gaps is not None and out_gaps.skip()))
            _, _, *values, data = await ctx.tick("tb").sample(*(getattr(top, n) for n in AXIS_SIGNALS),
                                                               top.m_axis_tdata)
            for name, v in zip(AXIS_SIGNALS, values, strict=True):
                trace[name].append(int(v))
            if values[3] and values[4]:
                results.append(int(data))
                if len(results) == len(images):
                    return
        raise TimeoutError(f"{len(results)} of {len(images)} results after {max_cycles} cycles")

    sim.add_testbench(source, background=True)
    sim.add_testbench(sink)
    sim.run()
    return results, trace
