import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rtlcheck
from hw.errors import BitfoldError
from hw.plan.tree import AdderTreePlan
from hw.rtl.adder_tree import AdderTree

pytestmark = pytest.mark.amaranth_sim


@settings(max_examples=20, deadline=None)
@given(n=st.integers(1, 70), width=st.integers(1, 9), signed=st.booleans(), reg_every=st.integers(0, 3),
       seed=st.integers(0, 2**16))
def test_sum_and_stated_latency(n, width, signed, reg_every, seed):
    plan = AdderTreePlan(n, width, signed, reg_every)
    dut = AdderTree(plan)
    rng = np.random.default_rng(seed)
    lo, hi = (-(2 ** (width - 1)), 2 ** (width - 1) - 1) if signed else (0, 2**width - 1)
    vectors = rng.integers(lo, hi + 1, (12, n))
    got = []

    async def tb(ctx):
        ctx.set(dut.en, 1)
        for v in vectors:
            ctx.set(dut.terms, sum((int(e) & ((1 << width) - 1)) << (j * width) for j, e in enumerate(v)))
            await ctx.tick()
            got.append(ctx.get(dut.sum))
        for _ in range(plan.latency):
            await ctx.tick()
            got.append(ctx.get(dut.sum))

    rtlcheck.simulate_clocked(dut, tb)
    # after the edge that registers vector i, the output shows vector i - latency + 1 ... so with
    # latency L the sum of vector i appears after L edges: sample index i + L - 1 (L >= 1)
    lat = plan.latency
    sums = vectors.sum(axis=1)
    if lat == 0:
        assert got[:len(sums)] == list(sums)
    else:
        assert got[lat - 1:lat - 1 + len(sums)] == list(sums)


def test_rejects_empty_tree():
    with pytest.raises(BitfoldError, match=r"^AdderTree needs at least one term, not 0$"):
        AdderTreePlan(0, 1)
