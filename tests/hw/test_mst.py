import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hw.errors import BitfoldError
from hw.ir import interp
from hw.ir.graph import Graph
from hw.ir.schedule import Schedule, scheduled_popcounts
from hw.mst import brute_force_cost, hamming, mst_schedule


def _weights(seed, o, k, flip=0.25):
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 2, (2, k), dtype=np.uint8)
    return (base[rng.integers(0, 2, o)] ^ (rng.random((o, k)) < flip)).astype(np.uint8)


def test_hamming():
    w = np.array([[0, 0, 1, 1], [0, 1, 1, 0], [1, 1, 0, 0]], np.uint8)
    assert hamming(w).tolist() == [[0, 2, 4], [2, 0, 2], [4, 2, 0]]


@settings(max_examples=25, deadline=None)
@given(o=st.integers(1, 5), k=st.integers(1, 12), seed=st.integers(0, 2**16))
def test_unbounded_tree_is_minimum(o, k, seed):
    w = _weights(seed, o, k)
    s = mst_schedule(w)
    assert s.cost(w) == brute_force_cost(w)


@settings(max_examples=25, deadline=None)
@given(o=st.integers(1, 5), k=st.integers(1, 12), bound=st.integers(0, 3), seed=st.integers(0, 2**16))
def test_bounded_tree_respects_its_bound(o, k, bound, seed):
    w = _weights(seed, o, k)
    s = mst_schedule(w, bound)
    assert s.max_depth <= bound
    assert brute_force_cost(w, bound) <= s.cost(w) <= o * k
    assert s.cost(w) >= mst_schedule(w).cost(w)


@settings(max_examples=25, deadline=None)
@given(o=st.integers(1, 20), k=st.integers(1, 90), bound=st.sampled_from([None, 0, 1, 3]), seed=st.integers(0, 2**16))
def test_scheduled_popcounts_equal_direct(o, k, bound, seed):
    w = _weights(seed, o, k)
    x = np.random.default_rng(seed + 1).integers(0, 2, (30, k), dtype=np.uint8)
    direct = interp.xnor_popcount(interp.pack_bits(x), interp.pack_bits(w), k)
    assert np.array_equal(scheduled_popcounts(x, w, mst_schedule(w, bound)), direct)


def test_schedule_validation_and_compression():
    with pytest.raises(BitfoldError, match=r"^MST schedule is not a forest"):
        Schedule((1, 0))
    with pytest.raises(BitfoldError, match=r"^MST schedule has depth 2, above its bound 1$"):
        Schedule((-1, 0, 1), 1)
    w = np.array([[0] * 8, [0] * 7 + [1], [1] * 8], np.uint8)
    s = Schedule((-1, 0, -1))
    assert s.depths == (0, 1, 0) and s.cost(w) == 8 + 1 + 8 and s.compression(w) == pytest.approx(24 / 17)


def test_schedule_round_trips_through_ir_json():
    from hw.passes.mst import attach_mst
    from irgraphs import random_net

    g = attach_mst(random_net(2, in_bits=1, convs=((3, 1, 1),), dense=(16,)), 2)
    h = Graph.from_json(g.to_json())
    for a, b in zip(g.nodes, h.nodes, strict=True):
        assert getattr(a, "schedule", None) == getattr(b, "schedule", None)
    codes = np.random.default_rng(0).integers(0, 2, (20, 1, 8, 8))
    assert np.array_equal(interp.run(g, codes, from_codes=True), interp.run(h, codes, from_codes=True))
