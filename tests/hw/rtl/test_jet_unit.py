import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rtlcheck
from hw.errors import BitfoldError
from hw.passes.fold import divisors
from hw.plan import JetPlan, ThresholdOut
from hw.rtl.jet_unit import JetUnit
from rtlcheck import jet_case

pytestmark = pytest.mark.amaranth_sim


@settings(max_examples=20, deadline=None)
@given(o=st.integers(1, 12), c=st.integers(1, 3), in_bits=st.sampled_from([0, 1, 4, 8]), constrained=st.booleans(),
       vectors=st.sampled_from([1, 1, 2]), seed=st.integers(0, 2**16), data=st.data())
def test_jet_unit_equals_reference(o, c, in_bits, constrained, vectors, seed, data):
    pe = data.draw(st.sampled_from(divisors(o)))
    rng = np.random.default_rng(seed)
    co, win, want, t, d = jet_case(rng, o, c, in_bits, constrained)
    dut = JetUnit(JetPlan("jet", co, pe, ThresholdOut(t, d), in_bits=in_bits, vectors=vectors))
    beats = rtlcheck.pack(win.reshape(len(win) // vectors, -1), max(1, in_bits))  # M windows per beat
    out = rtlcheck.run(dut, beats, len(beats), seed=seed)
    assert np.array_equal(rtlcheck.unpack(out, vectors * o, 1).reshape(-1, o), want)


def test_bad_coefficients():
    with pytest.raises(BitfoldError, match=r"jet coefficients must be an \(outputs, channels, 9\) array of -1, 0, \+1"):
        JetPlan("jet", np.full((2, 1, 9), 2), 1, ThresholdOut([0, 0], [1, 1]))
