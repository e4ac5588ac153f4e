"""Run a stream component in the Amaranth simulator: beats in, beats out."""

from amaranth.sim import Simulator

from .stream import Gaps, amaranth_get, amaranth_put

__all__ = ["run_stream"]


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
