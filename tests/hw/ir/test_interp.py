import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hw.errors import BitfoldError
from hw.ir import interp
from hw.ir.graph import Quantize, TensorType


def _naive_pm1(x_bits, w_bits):
    return (2 * x_bits.astype(np.int64) - 1) @ (2 * w_bits.astype(np.int64) - 1).T


@settings(max_examples=60, deadline=None)
@given(m=st.integers(1, 9), k=st.integers(1, 400), o=st.integers(1, 70), seed=st.integers(0, 2**32 - 1))
def test_packed_xnor_equals_naive_pm1_matmul(m, k, o, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, (m, k), dtype=np.uint8)
    w = rng.integers(0, 2, (o, k), dtype=np.uint8)
    assert np.array_equal(interp.binary_dense(x, w), _naive_pm1(x, w))


@settings(max_examples=30, deadline=None)
@given(m=st.integers(1, 6), k=st.integers(1, 200), o=st.integers(1, 20), bits=st.integers(1, 12),
       signed=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_int_dense_equals_naive(m, k, o, bits, signed, seed):
    rng = np.random.default_rng(seed)
    lo, hi = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed and bits > 1 else (0, 2**bits - 1)
    x = rng.integers(lo, hi + 1, (m, k))
    w = rng.integers(0, 2, (o, k), dtype=np.uint8)
    assert np.array_equal(interp.int_dense(x, w), x @ (2 * w.astype(np.int64) - 1).T)


def _naive_conv(x, w_pm1, stride, pads, pad_value):
    t, l, b, r = pads
    x = np.pad(x, ((0, 0), (0, 0), (t, b), (l, r)), constant_values=pad_value)
    n, c, h, wd = x.shape
    o, _, kh, kw = w_pm1.shape
    oh, ow = (h - kh) // stride[0] + 1, (wd - kw) // stride[1] + 1
    out = np.zeros((n, o, oh, ow), dtype=np.int64)
    for i in range(oh):
        for j in range(ow):
            win = x[:, :, i * stride[0]:i * stride[0] + kh, j * stride[1]:j * stride[1] + kw]
            out[:, :, i, j] = np.einsum("nchw,ochw->no", win, w_pm1)
    return out


@settings(max_examples=25, deadline=None)
@given(c=st.integers(1, 5), o=st.integers(1, 6), h=st.integers(3, 9), w=st.integers(3, 9),
       k=st.sampled_from([1, 2, 3]), s=st.integers(1, 2), p=st.integers(0, 2), pad_bit=st.integers(0, 1),
       seed=st.integers(0, 2**32 - 1))
def test_conv_windows_binary_equals_naive(c, o, h, w, k, s, p, pad_bit, seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 2, (2, c, h, w), dtype=np.uint8)
    wb = rng.integers(0, 2, (o, c, k, k), dtype=np.uint8)
    cols = interp.conv_windows(x, (k, k), (s, s), (p,) * 4, pad_bit)
    n, oh, ow, kk = cols.shape
    acc = interp.binary_dense(cols.reshape(-1, kk), wb.reshape(o, -1)).reshape(n, oh, ow, o).transpose(0, 3, 1, 2)
    want = _naive_conv(2 * x.astype(np.int64) - 1, 2 * wb.astype(np.int64) - 1, (s, s), (p,) * 4, 2 * pad_bit - 1)
    assert np.array_equal(acc, want)


def test_maxpool_or():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 2, (2, 3, 7, 7), dtype=np.uint8)
    y = interp.maxpool_or(x, (2, 2), (2, 2))
    assert y.shape == (2, 3, 3, 3)
    assert np.array_equal(y, x[:, :, :6, :6].reshape(2, 3, 3, 2, 3, 2).max(axis=(3, 5)))


def test_threshold_directions():
    acc = np.array([[-3, -3], [0, 0], [3, 3]])
    bits = interp.threshold(acc, np.array([0, 0]), np.array([1, -1]))
    assert bits.tolist() == [[0, 1], [1, 1], [1, 0]]


def test_argmax_ties_go_to_lowest_index():
    assert interp.argmax(np.array([[1, 5, 5, 2], [3, 3, 3, 3]])).tolist() == [1, 0]


@pytest.mark.parametrize("bits,signed,narrow,rounding", [(8, False, False, "ROUND"), (4, True, True, "ROUND"),
                                                        (3, True, False, "FLOOR"), (6, False, True, "HALF_UP")])
def test_quantize_matches_qonnx_quant(bits, signed, narrow, rounding):
    from qonnx.custom_op.general.quant import quant

    rng = np.random.default_rng(bits)
    x = (rng.standard_normal(5000) * 3).astype(np.float32)
    scale = np.float32(0.37)
    node = Quantize("q", TensorType((5000,), "int", -128, 255, 0.37), pre=(("mul", 2.0), ("sub", 1.0)),
                    scale=float(scale), bitwidth=bits, signed=signed, narrow=narrow, rounding=rounding)
    pre = x * np.float32(2.0) - np.float32(1.0)
    want = quant(pre, scale, np.float32(0), np.float32(bits), signed, narrow, rounding) / scale
    got = interp.quantize(node, x[None])[0]
    assert np.array_equal(got, np.rint(want).astype(np.int64))


def test_run_rejects_wrong_input_shape(tmp_path):
    from hw.ir.graph import Dense, Graph

    q = Quantize("q", TensorType((4,), "bits", 0, 1), bipolar=True)
    d = Dense("d", TensorType((2,), "int", -4, 4), weights=np.zeros((2, 4), np.uint8))
    g = Graph(TensorType((4,), "float"), (q, d))
    with pytest.raises(BitfoldError, match=r"^wrong input shape \(3, 5\): the model expects \(batch, 4\)$"):
        interp.run(g, np.zeros((3, 5), np.float32))
    assert interp.run(g, np.ones((3, 4), np.float32)).tolist() == [[-4, -4]] * 3
