import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rtlcheck
from hw.errors import BitfoldError
from hw.plan import WindowPlan
from hw.rtl.sliding_window import SlidingWindow

pytestmark = pytest.mark.amaranth_sim


@settings(max_examples=25, deadline=None)
@given(c=st.integers(1, 4), eb=st.sampled_from([1, 1, 4, 8]), h=st.integers(2, 8), w=st.integers(2, 8),
       k=st.integers(1, 3), s=st.integers(1, 2), pad=st.integers(0, 2), images=st.integers(1, 3),
       seed=st.integers(0, 2**16))
def test_windows_equal_reference_im2col(c, eb, h, w, k, s, pad, images, seed):
    if k > h + 2 * pad or k > w + 2 * pad:
        return
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2**eb, (images, c, h, w))
    pad_value = int(rng.integers(0, 2**eb))
    plan = WindowPlan("swg", c, eb, h, w, (k, k), (s, s), (pad,) * 4, pad_value)
    want = rtlcheck.window_case(x, (k, k), (s, s), (pad,) * 4, pad_value)
    beats = rtlcheck.pack(x.transpose(0, 2, 3, 1).reshape(-1, c), eb)
    out = rtlcheck.run(SlidingWindow(plan), beats, len(want), seed=seed)
    assert np.array_equal(rtlcheck.unpack(out, k * k * c, eb), want)
    assert plan.windows == len(want) // images


def test_kernel_larger_than_image():
    with pytest.raises(BitfoldError, match=r"^conv: kernel \(5, 5\) does not fit a padded image of 4x4$"):
        WindowPlan("conv", 1, 1, 4, 4, (5, 5))
