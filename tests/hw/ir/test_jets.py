import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from hw.ir.jets import NAMES, compose, decompose, jet_kernels, jets


def test_named_kernels():
    k = jet_kernels()
    assert NAMES[0] == "SS" and k[0].tolist() == [[1, 2, 1], [2, 4, 2], [1, 2, 1]]  # binomial blur
    assert k[NAMES.index("SD")].tolist() == [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]  # Sobel x
    assert k[NAMES.index("DS")].tolist() == [[-1, -2, -1], [0, 0, 0], [1, 2, 1]]  # Sobel y


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), lo=st.sampled_from([-1, 0, -128]), hi=st.sampled_from([1, 255, 127]))
def test_separable_jets_equal_the_kernels(seed, lo, hi):
    rng = np.random.default_rng(seed)
    win = rng.integers(lo, hi + 1, (20, 3, 3))
    assert np.array_equal(jets(win), np.einsum("nij,kij->nk", win, jet_kernels()))


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_decompose_round_trip(seed):
    rng = np.random.default_rng(seed)
    coeffs = rng.integers(-1, 2, (5, 3, 9))
    assert np.array_equal(decompose(compose(coeffs)), coeffs)


def test_kernels_outside_the_span_of_integer_jets():
    assert decompose(np.ones((3, 3))) is None  # the all-ones box is not an integer combination
