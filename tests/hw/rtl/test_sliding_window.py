import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import rtlcheck
from hw.errors import BitfoldError
from hw.plan import WindowPlan
from hw.rtl.sliding_window import SlidingWindow
from sim.amaranth_run import run_stream

pytestmark = pytest.mark.amaranth_sim


def divisors(n):
    return [d for d in range(1, n + 1) if n % d == 0]


@st.composite
def windows(draw):
    k, s = draw(st.integers(1, 3)), draw(st.integers(1, 2))
    h, w = draw(st.integers(max(2, k), 8)), draw(st.integers(max(2, k), 10))
    p = draw(st.sampled_from(divisors(w)))
    pad = draw(st.sampled_from([0, 0, p if p <= 2 else 0, 1]))
    assume(pad % p == 0)
    ow = (w + 2 * pad - k) // s + 1
    ms = [m for m in divisors(ow) if (m * s) % p == 0]
    assume(ms)
    return dict(c=draw(st.integers(1, 3)), eb=draw(st.sampled_from([1, 1, 4])), h=h, w=w, k=k, s=s, pad=pad, p=p,
                m=draw(st.sampled_from(ms)))


@settings(max_examples=40, deadline=None)
@given(case=windows(), images=st.integers(1, 3), seed=st.integers(0, 2**16))
def test_windows_equal_reference_im2col(case, images, seed):
    c, eb, h, w, k, s, pad, p, m = (case[x] for x in ("c", "eb", "h", "w", "k", "s", "pad", "p", "m"))
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2**eb, (images, c, h, w))
    pad_value = int(rng.integers(0, 2**eb))
    plan = WindowPlan("swg", c, eb, h, w, (k, k), (s, s), (pad,) * 4, pad_value, in_pixels=p, windows=m)
    want = rtlcheck.window_case(x, (k, k), (s, s), (pad,) * 4, pad_value)
    beats = rtlcheck.pack(x.transpose(0, 2, 3, 1).reshape(-1, p * c), eb)
    out = rtlcheck.run(SlidingWindow(plan), beats, len(want) // m, seed=seed)
    assert np.array_equal(rtlcheck.unpack(out, m * k * k * c, eb).reshape(-1, k * k * c), want)
    assert plan.groups == len(want) // images // m


@pytest.mark.parametrize("plan", [
    WindowPlan("swg", 1, 1, 8, 8, (3, 3)),
    WindowPlan("swg", 2, 1, 8, 8, (3, 3), in_pixels=2, windows=2),
    WindowPlan("swg", 1, 1, 8, 8, (2, 2), (2, 2), in_pixels=2, windows=1),
    WindowPlan("swg", 1, 1, 8, 8, (1, 1), in_pixels=4, windows=4),
], ids=["p1m1", "p2m2", "pool-p2m1", "p4m4"])
def test_a_word_per_cycle_and_the_stated_steps(plan):
    """Fed without gaps, the walk takes one word per cycle: an image in ``steps`` cycles, a group of
    windows out at each step that completes one."""
    beats = list(range(plan.height * plan.width // plan.in_pixels)) * 3
    cycles = []
    run_stream(SlidingWindow(plan), beats, 3 * plan.groups, cycles=cycles)
    assert cycles[plan.groups] - cycles[0] == plan.steps


def test_constraints_name_the_unit_and_the_valid_values():
    with pytest.raises(BitfoldError, match=r"^conv: kernel \(5, 5\) does not fit a padded image of 4x4$"):
        WindowPlan("conv", 1, 1, 4, 4, (5, 5))
    with pytest.raises(BitfoldError, match=r"^conv: 3 pixels per beat must divide the image width 8; "
                                           r"valid: 1, 2, 4, 8$"):
        WindowPlan("conv", 1, 1, 8, 8, (3, 3), in_pixels=3)
    with pytest.raises(BitfoldError, match=r"^conv: 2 pixels per beat must divide the image width 8 and the left "
                                           r"and right pads 1, 1; valid: 1$"):
        WindowPlan("conv", 1, 1, 8, 8, (3, 3), pads=(1, 1, 1, 1), in_pixels=2)
    with pytest.raises(BitfoldError, match=r"^conv: 4 windows per cycle must divide the output width 6; "
                                           r"valid: 1, 2, 3, 6$"):
        WindowPlan("conv", 1, 1, 8, 8, (3, 3), windows=4)
    with pytest.raises(BitfoldError, match=r"^conv: a group of 1 windows at stride 1 spans 1 columns, not a "
                                           r"multiple of the 2 pixels per beat$"):
        WindowPlan("conv", 1, 1, 8, 8, (3, 3), in_pixels=2, windows=1)
