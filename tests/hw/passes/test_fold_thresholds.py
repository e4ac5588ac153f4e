import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hw.errors import BitfoldError
from hw.ir import interp
from hw.ir.graph import Dense, FloatOps, Graph, Quantize, Scores, Sign, TensorType, Threshold
from hw.ir.ranges import acc_range
from hw.passes import fold_scores, fold_thresholds


def _graph(w, in_kind, ops, lo=0, hi=1, scale=1.0):
    k = w.shape[1]
    q_out = TensorType((k,), in_kind, lo, hi, scale)
    q = Quantize("q", q_out, bipolar=in_kind == "bits", scale=scale, bitwidth=max(1, int(hi).bit_length()))
    alo, ahi, _ = acc_range(w, in_kind, lo, hi)
    acc = TensorType((len(w),), "int", int(alo.min()), int(ahi.max()), scale)
    nodes = [q, Dense("d", acc, weights=w)]
    if ops:
        nodes.append(FloatOps("f", TensorType((len(w),), "float"), ops=ops))
    nodes.append(Sign("s", TensorType((len(w),), "bits")))
    return Graph(TensorType((k,), "float"), tuple(nodes))


def _bn(rng, c, spread):
    f = np.float32
    gamma, beta = rng.standard_normal(c).astype(f), (rng.standard_normal(c) * spread).astype(f)
    mean, var = (rng.standard_normal(c) * spread).astype(f), (rng.random(c) * spread + 0.01).astype(f)
    return ("bn", (gamma, beta, mean, var, 1e-5))


@settings(max_examples=30, deadline=None)
@given(k=st.integers(1, 200), c=st.integers(1, 24), seed=st.integers(0, 2**32 - 1))
def test_binary_fold_is_exact_on_every_reachable_value(k, c, seed):
    rng = np.random.default_rng(seed)
    w = rng.integers(0, 2, (c, k), dtype=np.uint8)
    ops = (_bn(rng, c, k / 3), ("add", rng.standard_normal(c).astype(np.float32)))
    g = _graph(w, "bits", ops)
    folded = fold_thresholds(g)
    t = folded.nodes[-1]
    assert isinstance(t, Threshold)
    # every reachable accumulator value, every channel: the folded compare equals the float chain
    values = np.arange(-k, k + 1, 2)
    acc = np.repeat(values[:, None], c, axis=1)
    want = interp.float_ops(ops, acc.astype(np.float32)) >= 0
    assert np.array_equal(interp.threshold(acc, t.thresholds, t.directions).astype(bool), want)


def test_int_input_fold_negative_and_zero_scales():
    rng = np.random.default_rng(3)
    w = rng.integers(0, 2, (6, 20), dtype=np.uint8)
    gamma = np.array([1.5, -2.0, 0.0, 0.0, -0.3, 0.7], np.float32)
    beta = np.array([0.1, 0.2, 1.0, -1.0, 0.0, -0.5], np.float32)
    ops = (("bn", (gamma, beta, np.full(6, 3.0, np.float32), np.ones(6, np.float32), 1e-5)),)
    g = _graph(w, "int", ops, 0, 255, 2**-8)
    t = fold_thresholds(g).nodes[-1]
    assert t.directions.tolist() == [1, -1, 1, 1, -1, 1]
    lo, hi, _ = acc_range(w, "int", 0, 255)
    assert t.thresholds[2] == lo[2]  # gamma 0, beta > 0: always +1
    assert t.thresholds[3] == hi[3] + 1  # gamma 0, beta < 0: never
    x = rng.integers(0, 256, (500, 20))
    direct = interp.run(g, x, from_codes=True)
    assert np.array_equal(interp.run(fold_thresholds(g), x, from_codes=True), direct)


def test_sign_after_something_else_is_an_error():
    q = Quantize("q", TensorType((4,), "bits"), bipolar=True)
    s = Sign("s", TensorType((4,), "bits"))
    with pytest.raises(BitfoldError, match=r"^IR node s: a sign must follow a layer's accumulator"):
        fold_thresholds(Graph(TensorType((4,), "float"), (q, s)))


def _score_graph(ops):
    w = np.random.default_rng(0).integers(0, 2, (10, 30), dtype=np.uint8)
    q = Quantize("q", TensorType((30,), "bits"), bipolar=True)
    d = Dense("d", TensorType((10,), "int", -30, 30), weights=w)
    nodes = (q, d) + ((FloatOps("f", TensorType((10,), "float"), ops=ops),) if ops else ())
    return Graph(TensorType((30,), "float"), nodes)


@pytest.mark.parametrize("ops,sign", [
    ((), 1),
    ((("mul", np.float32(0.05)), ("add", np.float32(0.3))), 1),
    ((("mul", np.float32(-0.5)),), -1),
])
def test_fold_scores_keeps_the_argmax(ops, sign):
    g = _score_graph(ops)
    s = fold_scores(g)
    assert isinstance(s.nodes[-1], Scores) and s.nodes[-1].sign == sign
    x = np.random.default_rng(1).integers(0, 2, (400, 30))
    assert np.array_equal(interp.classify(s, x, from_codes=True), interp.classify(g, x, from_codes=True))


def test_fold_scores_refuses_what_it_cannot_make_exact():
    per_class = (("add", np.arange(10, dtype=np.float32)),)
    with pytest.raises(BitfoldError, match=r"per-class add after the last layer cannot be folded"):
        fold_scores(_score_graph(per_class))
    merging = (("mul", np.float32(1.0)), ("add", np.float32(3e8)))  # float32 merges neighbouring scores
    with pytest.raises(BitfoldError, match=r"map distinct scores to the same or reversed values"):
        fold_scores(_score_graph(merging))
