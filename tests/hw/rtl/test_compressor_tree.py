import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rtlcheck
from hw.plan.popcount import TARGETS, CompressorTreePlan
from hw.rtl.compressor_tree import CompressorTree

pytestmark = pytest.mark.amaranth_sim


def _bits(v):
    return int("".join(str(int(b)) for b in v[::-1]), 2)


def simulate(plan, rng, cycles, p_en):
    """Random lanes every cycle, ``en`` high with probability ``p_en``. After the ``k``-th enabled
    edge the count must be that of the lanes at enabled edge ``k - latency + 1`` (a stall freezes
    the tree); a combinational tree (latency 0) counts the lanes of the same cycle."""
    dut = CompressorTree(plan)
    bad = []

    async def tb(ctx):
        taken = []
        for t in range(cycles):
            x = rng.integers(0, 2, plan.n)
            w = rng.integers(0, 2, plan.n) if plan.variable else plan.weights
            en = int(rng.random() < p_en)
            ctx.set(dut.x, _bits(x))
            if plan.variable:
                ctx.set(dut.w, _bits(w))
            ctx.set(dut.en, en)
            want = int(np.sum(x == w))
            if plan.latency == 0 and ctx.get(dut.count) != want:
                bad.append((t, ctx.get(dut.count), want))
            await ctx.tick()
            if en:
                taken.append(want)
            if plan.latency and len(taken) >= plan.latency:
                want = taken[len(taken) - plan.latency]
                if ctx.get(dut.count) != want:
                    bad.append((t, ctx.get(dut.count), want))

    rtlcheck.simulate_clocked(dut, tb)
    return bad


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 300), weights=st.sampled_from(["variable", "random", "ones", "zeros", "sparse"]),
       family=st.sampled_from(sorted(TARGETS)), reg_every=st.integers(0, 3), p_en=st.sampled_from([1.0, 0.7, 0.3]),
       seed=st.integers(0, 2**16))
def test_counts_bit_exact_with_stalls(n, weights, family, reg_every, p_en, seed):
    rng = np.random.default_rng(seed)
    w = {"variable": None, "random": rng.integers(0, 2, n), "ones": np.ones(n, np.uint8),
         "zeros": np.zeros(n, np.uint8), "sparse": (rng.random(n) < 0.15).astype(np.uint8)}[weights]
    plan = CompressorTreePlan(n, w, family, reg_every)
    assert simulate(plan, rng, 24 + 3 * plan.latency, p_en) == []


@pytest.mark.parametrize("variable", [False, True])
def test_tree_style_counts_with_stalls(variable):
    rng = np.random.default_rng(4)
    plan = CompressorTreePlan(77, None if variable else rng.integers(0, 2, 77), "xc7", 2, style="tree")
    assert simulate(plan, rng, 30, 0.6) == []


@pytest.mark.parametrize("family", sorted(TARGETS))
def test_latency_is_the_stated_one_behind_streams(family):
    """Lanes offered from cycle 0 on to the stream wrapper, whose output is always ready: the count
    of the first is offered ``latency`` cycles later (the unit plans' convention)."""
    from sim.amaranth_run import run_stream

    rng = np.random.default_rng(5)
    plan = CompressorTreePlan(200, None, family, 1)
    x, w = rng.integers(0, 2, (6, 200)), rng.integers(0, 2, (6, 200))
    beats = [_bits(a) | _bits(b) << 200 for a, b in zip(x, w, strict=True)]
    cycles = []
    out = run_stream(rtlcheck.PopcountStream(plan), beats, 6, cycles=cycles)
    assert out == list((x == w).sum(axis=1)) and cycles[0] == plan.latency + 1


def test_ports():
    from amaranth.hdl import Fragment

    const = CompressorTree(CompressorTreePlan(9, np.ones(9, np.uint8)))
    var = CompressorTree(CompressorTreePlan(9))
    assert set(const.signature.members) == {"x", "en", "count"}
    assert set(var.signature.members) == {"x", "w", "en", "count"}
    assert len(var.count) == 4 and len(var.w) == 9
    Fragment.get(const, None), Fragment.get(var, None)
