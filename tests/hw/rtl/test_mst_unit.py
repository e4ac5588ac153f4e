import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rtlcheck
from hw.ir import interp
from hw.mst import mst_schedule
from hw.rtl.mst_unit import MSTUnit
from sim.amaranth_run import run_stream

pytestmark = pytest.mark.amaranth_sim


def case(seed, o, k, bound, n=12):
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 2, (3, k), dtype=np.uint8)
    w = (base[rng.integers(0, 3, o)] ^ (rng.random((o, k)) < 0.15)).astype(np.uint8)
    x = rng.integers(0, 2, (n, k), dtype=np.uint8)
    pop = interp.xnor_popcount(interp.pack_bits(x), interp.pack_bits(w), k)
    t, d = rng.integers(0, k + 1, o), rng.choice([-1, 1], o)
    return MSTUnit(w, mst_schedule(w, bound).parents, t, d), x, interp.threshold(pop, t, d)


@settings(max_examples=20, deadline=None)
@given(o=st.integers(1, 16), k=st.integers(1, 60), bound=st.sampled_from([None, 0, 1, 2, 5]), seed=st.integers(0, 2**16))
def test_mst_unit_equals_reference(o, k, bound, seed):
    dut, x, want = case(seed, o, k, bound)
    out = rtlcheck.run(dut, rtlcheck.pack(x, 1), len(x), seed=seed)
    assert np.array_equal(rtlcheck.unpack(out, o, 1), want)


def test_one_vector_per_cycle_and_stated_latency():
    dut, x, want = case(7, 12, 40, 3, n=20)
    cycles = []
    out = run_stream(dut, rtlcheck.pack(x, 1), len(x), cycles=cycles)
    assert np.array_equal(rtlcheck.unpack(out, 12, 1), want)
    assert np.all(np.diff(cycles) == 1)
    assert cycles[0] == 1 + dut.latency + 1
    assert dut.xnors < 12 * 40
