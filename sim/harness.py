"""Testbench wrapper for whole networks under Verilator: the per-beat work stays in the RTL.

Streaming thousands of images through a Python driver that wakes every clock cycle would spend
the time in Python, not in Verilator. The harness takes one whole image per handshake (all beats
concatenated, as :meth:`hw.plan.layout.InputLayout.images` packs them), feeds its beats to the design
under test, and publishes each result with a counter that cocotb waits on. Python wakes a few
times per image; the random valid gaps and ready back-pressure come from LFSRs in the harness,
switched on by the ``stress`` input.

Members
-------
img : ``In(stream.Signature(image_bits))``
    One image per beat; a two-image staging queue and a shift register keep the design fed.
res_data : ``Out(output beat bits)``
    The latest result beat; ``res_cycle`` is the cycle it left the design, ``res_count`` counts
    results (it changes exactly once per result).
start_cycle : ``Out(32)``
    Cycle at which the design accepted the first beat of the latest image.
cycle : ``Out(32)``
    Free-running cycle counter.
clk : ``In(1)``
    The clock (there is no reset input).
stress : ``In(1)``
    Enable random input gaps and output back-pressure (each with probability 1/4 per cycle).

For simulation speed no logic of the design depends on a top-level input combinationally:
Verilator re-evaluates input-dependent logic on every clock toggle. So reset comes from a
power-on counter inside the harness (16 cycles), ``stress`` is registered, and the image queue's
``ready`` is a register.
"""

from amaranth import ClockDomain, ClockSignal, Instance, Module, ResetSignal, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

__all__ = ["NetworkHarness"]


class _Lfsr:
    """32-bit Galois LFSR (taps 32, 22, 2, 1), advanced every cycle."""

    TAPS = 0x80200003

    def __init__(self, m, seed, name):
        self.state = Signal(32, init=seed, name=name)
        lsb = self.state[0]
        nxt = (self.state >> 1) ^ (lsb.replicate(32) & self.TAPS)
        m.d.sync += self.state.eq(nxt)


class _Ports:
    """Stand-in for the design's ``i`` / ``o`` streams, wired to an instance of the emitted module."""

    def __init__(self, width):
        self.payload, self.valid, self.ready = Signal(width), Signal(), Signal()


class NetworkHarness(wiring.Component):
    """Parameters: ``top`` (name of the emitted Verilog module under test), the input layout's
    ``image_beats`` and ``beat_bits``, and the output beat width ``out_bits``."""

    def __init__(self, top: str, image_beats: int, beat_bits: int, out_bits: int):
        self.top = top
        self.image_beats, self.beat_bits, self.out_bits = image_beats, beat_bits, out_bits
        super().__init__({
            "img": In(stream.Signature(image_beats * beat_bits)),
            "res_data": Out(out_bits),
            "res_cycle": Out(32),
            "res_count": Out(32),
            "start_cycle": Out(32),
            "cycle": Out(32),
            "stress": In(1),
            "clk": In(1),
        })

    def elaborate(self, platform):
        m = Module()
        # clock from the top-level port, reset from a power-on counter (not an input: see above)
        m.domains.sync = ClockDomain("sync")
        m.domains.por = ClockDomain("por", reset_less=True)
        m.d.comb += [ClockSignal("sync").eq(self.clk), ClockSignal("por").eq(self.clk)]
        por = Signal(5, init=0)
        with m.If(~por[4]):
            m.d.por += por.eq(por + 1)
        m.d.comb += ResetSignal("sync").eq(~por[4])
        stress = Signal()
        m.d.sync += stress.eq(self.stress)
        dut_i, dut_o = _Ports(self.beat_bits), _Ports(self.out_bits)
        m.submodules.dut = Instance(
            self.top, i_clk=ClockSignal(), i_rst=ResetSignal(),
            i_i__payload=dut_i.payload, i_i__valid=dut_i.valid, o_i__ready=dut_i.ready,
            o_o__payload=dut_o.payload, o_o__valid=dut_o.valid, i_o__ready=dut_o.ready,
        )

        class dut:  # noqa: N801 - reads like the component it stands for
            i, o = dut_i, dut_o

        m.d.sync += self.cycle.eq(self.cycle + 1)
        gap_in = _Lfsr(m, 0x1D872B41, "lfsr_in")
        gap_out = _Lfsr(m, 0x5EED1234, "lfsr_out")
        idle_in = stress & (gap_in.state[:2] == 0)
        stall_out = stress & (gap_out.state[:2] == 0)

        # a two-image staging queue -> shift register of beats. The queue's ``ready`` is a register
        # (high while at most one image waits), so an image a cycle can enter when a design takes
        # a whole image per beat, and no logic of the design depends on the top-level inputs.
        bits = len(self.img.payload)
        stage = [Signal(bits, name=f"stage{j}") for j in range(2)]
        count = Signal(range(3))
        ready = Signal(init=1)
        m.d.comb += self.img.ready.eq(ready)
        shreg, left = Signal(bits), Signal(range(self.image_beats + 1))
        beat_taken = dut.i.valid & dut.i.ready
        m.d.comb += [dut.i.payload.eq(shreg[:self.beat_bits]), dut.i.valid.eq((left != 0) & ~idle_in)]
        refill = (left == 0) | ((left == 1) & beat_taken)
        push, pop = self.img.valid & self.img.ready, refill & (count != 0)
        with m.If(beat_taken):
            m.d.sync += [shreg.eq(shreg >> self.beat_bits), left.eq(left - 1)]
            with m.If(left == self.image_beats):
                m.d.sync += self.start_cycle.eq(self.cycle)
        with m.If(pop):
            m.d.sync += [shreg.eq(stage[0]), left.eq(self.image_beats), stage[0].eq(stage[1])]
        with m.If(push):  # into the first free entry (after a pop, entries move down by one)
            with m.If(count - pop == 0):
                m.d.sync += stage[0].eq(self.img.payload)
            with m.Else():
                m.d.sync += stage[1].eq(self.img.payload)
        nxt = count + push - pop
        m.d.sync += [count.eq(nxt), ready.eq(nxt < 2)]

        # results
        m.d.comb += dut.o.ready.eq(~stall_out)
        with m.If(dut.o.valid & dut.o.ready):
            m.d.sync += [self.res_data.eq(dut.o.payload), self.res_cycle.eq(self.cycle),
                         self.res_count.eq(self.res_count + 1)]
        return m
