"""The small stream units: OR pooling, width gathering, skid buffer, FIFO, argmax."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rtlcheck
from elaborated import counts
from hw.ir import interp
from hw.plan import ArgMaxPlan, FifoPlan, GatherPlan, OrPoolPlan, SkidPlan
from hw.rtl.argmax import ArgMax
from hw.rtl.gather import Gather
from hw.rtl.or_reduce import OrReduce
from hw.rtl.skid import SkidBuffer
from hw.rtl.stream_fifo import StreamFIFO

pytestmark = pytest.mark.amaranth_sim


@settings(max_examples=10, deadline=None)
@given(pixels=st.integers(1, 9), c=st.integers(1, 16), seed=st.integers(0, 2**16))
def test_or_reduce(pixels, c, seed):
    rng = np.random.default_rng(seed)
    win = rng.integers(0, 2, (30, pixels, c))
    out = rtlcheck.run(OrReduce(OrPoolPlan(pixels, c)), rtlcheck.pack(win.reshape(30, -1), 1), 30, seed=seed)
    assert np.array_equal(rtlcheck.unpack(out, c, 1), win.max(axis=1))


@settings(max_examples=10, deadline=None)
@given(width=st.integers(1, 12), count=st.integers(1, 9), seed=st.integers(0, 2**16))
def test_gather(width, count, seed):
    rng = np.random.default_rng(seed)
    beats = rng.integers(0, 2**width, 5 * count).tolist()
    out = rtlcheck.run(Gather(GatherPlan(width, count)), beats, 5, seed=seed)
    assert out == rtlcheck.pack(np.array(beats).reshape(5, count), width)


@pytest.mark.parametrize("count", [1, 2, 7])
def test_gather_takes_a_beat_every_cycle_and_holds_one_vector(count):
    """Without gaps or back-pressure a vector leaves every ``count`` cycles, one cycle after its
    last beat; with the consumer stalled, the gather holds one whole vector and takes no beat of
    the next."""
    from amaranth.sim import Simulator

    from sim.amaranth_run import run_stream

    beats = list(range(1, 10 * count + 1))
    cycles = []
    out = run_stream(Gather(GatherPlan(8, count)), beats, 10, cycles=cycles)
    assert out == rtlcheck.pack(np.array(beats).reshape(10, count), 8)
    assert cycles[0] == count + 1 and np.all(np.diff(cycles) == count)  # sampled at the end of cycle count

    dut = Gather(GatherPlan(8, count))
    taken = []

    async def bench(ctx):
        ctx.set(dut.o.ready, 0)
        ctx.set(dut.i.valid, 1)
        for b in range(3 * count):
            ctx.set(dut.i.payload, b + 1)
            taken.append(ctx.get(dut.i.ready))
            await ctx.tick()
        assert ctx.get(dut.o.valid)
        assert ctx.get(dut.o.payload) == rtlcheck.pack(np.arange(1, count + 1).reshape(1, count), 8)[0]

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    assert taken == [1] * count + [0] * (2 * count)


@pytest.mark.parametrize("unit", [lambda: SkidBuffer(SkidPlan(9)), lambda: StreamFIFO(FifoPlan(9, 3)),
                                  lambda: StreamFIFO(FifoPlan(9, 37)), lambda: StreamFIFO(FifoPlan(40, 300))])
@pytest.mark.parametrize("gap", [0.0, 0.5])
def test_queues_keep_order_and_full_rate(unit, gap):
    beats = list(range(300, 400))
    cycles = []
    out = rtlcheck.run(unit(), beats, len(beats), gap=gap, seed=2, cycles=cycles)
    assert out == beats
    if gap == 0.0:
        assert np.all(np.diff(cycles) == 1)  # one beat per cycle


@settings(max_examples=8, deadline=None)
@given(width=st.integers(129, 700), depth=st.integers(3, 40), gap=st.sampled_from([0.0, 0.3, 0.7]),
       seed=st.integers(0, 2**16))
def test_wide_queue_reads_in_slices(width, depth, gap, seed):
    """A queue in LUT RAM wider than one enable's reach reads in slices, each under its own copies
    of the read pointer and flags; the slices stay in step under random gaps and back-pressure
    (random payloads: a slice a beat behind or ahead shows), and its register bits are the plan's."""
    plan = FifoPlan(width, depth)
    assert len(plan.read_slices) == -(-width // 128) and plan.read_slices[-1][1] == width
    assert all(b - a <= 144 and a % 12 == 0 for a, b in plan.read_slices)
    rng = np.random.default_rng(seed)
    beats = rtlcheck.pack(rng.integers(0, 2, (60, width)), 1)
    cycles = []
    assert rtlcheck.run(StreamFIFO(plan), beats, len(beats), gap=gap, seed=seed, cycles=cycles) == beats
    if gap == 0.0:
        assert np.all(np.diff(cycles) == 1)
    assert counts(StreamFIFO(plan))["register_bits"] == plan.register_bits


def test_queue_read_slices_only_where_the_read_register_is_fabric():
    assert FifoPlan(1024, 5).read_slices == ((0, 120), (120, 252), (252, 384), (384, 516), (516, 636),
                                              (636, 768), (768, 900), (900, 1024))
    assert FifoPlan(128, 33).read_slices == ((0, 128),)  # one enable's reach
    assert FifoPlan(677, 300).read_slices == ((0, 677),)  # block RAM: the read register is in the block


@settings(max_examples=10, deadline=None)
@given(classes=st.integers(1, 12), width=st.integers(2, 10), seed=st.integers(0, 2**16))
def test_argmax_lowest_index_wins_ties(classes, width, seed):
    rng = np.random.default_rng(seed)
    scores = rng.integers(-(2 ** (width - 1)), 2 ** (width - 1), (40, classes))
    scores[::3, :] = scores[::3, :1]  # every third vector: all tied
    plan = ArgMaxPlan(classes, width)
    out = rtlcheck.run(ArgMax(plan), rtlcheck.pack(scores, width), 40, seed=seed)
    got = [b & ((1 << plan.class_bits) - 1) for b in out]
    assert got == interp.argmax(scores).tolist()
    assert np.array_equal(rtlcheck.unpack([b >> plan.class_bits for b in out], classes, width, True), scores)
