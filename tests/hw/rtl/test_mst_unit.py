import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rtlcheck
from hw.ir.schedule import Schedule
from hw.plan import MSTPlan, Popcount, ThresholdOut
from hw.rtl.mst_unit import MSTUnit
from sim.amaranth_run import run_stream

pytestmark = pytest.mark.amaranth_sim


def case(seed, o, k, bound, n=12, vectors=1, popcount=Popcount()):
    w, parents, x, t, d, want = rtlcheck.mst_case(np.random.default_rng(seed), o, k, bound, n)
    return MSTPlan("mst", w, Schedule(parents), ThresholdOut(t, d), vectors=vectors, popcount=popcount), x, want


@settings(max_examples=20, deadline=None)
@given(o=st.integers(1, 16), k=st.integers(1, 60), bound=st.sampled_from([None, 0, 1, 2, 5]),
       vectors=st.sampled_from([1, 1, 2, 3]), seed=st.integers(0, 2**16),
       style=st.sampled_from(["compressor", "tree"]), family=st.sampled_from(["xc7", "ecp5", "ice40"]))
def test_mst_unit_equals_reference(o, k, bound, vectors, seed, style, family):
    plan, x, want = case(seed, o, k, bound, 12, vectors, Popcount(style, family))
    beats = rtlcheck.pack(x.reshape(12 // vectors, -1), 1)  # M vectors per beat
    out = rtlcheck.run(MSTUnit(plan), beats, len(beats), seed=seed)
    assert np.array_equal(rtlcheck.unpack(out, vectors * o, 1).reshape(-1, o), want)


def test_one_vector_per_cycle_and_stated_latency():
    plan, x, want = case(7, 12, 40, 3, n=20)
    cycles = []
    out = run_stream(MSTUnit(plan), rtlcheck.pack(x, 1), len(x), cycles=cycles)
    assert np.array_equal(rtlcheck.unpack(out, 12, 1), want)
    assert np.all(np.diff(cycles) == 1)
    assert cycles[0] == plan.latency + 1
    assert plan.xnors < 12 * 40
