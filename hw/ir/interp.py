"""The golden reference: a batched numpy interpreter of the IR.

This module *defines* what an IR graph computes. Torch, QONNX execution, the Amaranth simulator and
the Verilated RTL are all compared with it, bit for bit. Each op has one public numpy function here
(``xnor_popcount``, ``conv_windows``, ``threshold`` ...) that tests and testbenches reuse.

Binary products are bit-packed: bits are packed into uint64 words along the reduction axis, and
``popcount(XNOR(x, w)) = K - popcount(x XOR w)`` is summed with ``np.bitwise_count``. Padding bits
are 0 in both operands, so they never count as a mismatch. Integer (first-layer) products use a
float64 matrix product, exact because every partial sum is an integer below 2^53.
"""

import functools
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..errors import BitfoldError
from .graph import Conv, Dense, Flatten, FloatOps, Graph, JetConv, Kind, MaxPool, Quantize, Scores, Sign, Threshold

__all__ = [
    "run", "classify", "pack_bits", "xnor_popcount", "binary_dense", "int_dense", "conv_windows",
    "quantize", "dequantize", "float_ops", "threshold", "maxpool_or", "scores", "argmax",
]

_CHUNK = 1 << 17  # elements of one (rows, O) block: stays in cache


# -- one reference per op ---------------------------------------------------------------------

def pack_bits(bits: np.ndarray) -> np.ndarray:
    """Pack uint8 0/1 bits ``(..., K)`` into uint64 words ``(..., ceil(K / 64))``, zero-padded."""
    bits = np.ascontiguousarray(bits, dtype=np.uint8)
    k = bits.shape[-1]
    words = -(-k // 64)
    packed = np.packbits(bits, axis=-1, bitorder="little")
    pad = words * 8 - packed.shape[-1]
    if pad:
        packed = np.concatenate([packed, np.zeros(packed.shape[:-1] + (pad,), np.uint8)], axis=-1)
    return np.ascontiguousarray(packed).view(np.uint64)


def xnor_popcount(x_packed: np.ndarray, w_packed: np.ndarray, k: int) -> np.ndarray:
    """``popcount(XNOR(x, w))`` over the first ``k`` bits for every pair of rows.

    ``x_packed``: ``(M, words)``, ``w_packed``: ``(O, words)`` from :func:`pack_bits`.
    Returns int32 ``(M, O)``. Blocks of rows (small enough to stay in cache) run on a thread per
    CPU: numpy's XOR and popcount release the GIL, and the blocks are independent.
    """
    m, words = x_packed.shape
    o = w_packed.shape[0]
    out = np.empty((m, o), dtype=np.int32)
    xt = np.ascontiguousarray(x_packed.T)  # word-major: one contiguous column per word
    wt = np.ascontiguousarray(w_packed.T)
    rows = max(1, _CHUNK // max(1, o))
    spans = [(start, min(m, start + rows)) for start in range(0, m, rows)]

    def block(span):
        start, stop = span
        acc = np.zeros((stop - start, o), dtype=np.uint16 if k < 2**16 else np.uint32)
        diff = np.empty((stop - start, o), dtype=np.uint64)
        ones = np.empty((stop - start, o), dtype=np.uint8)
        for j in range(words):  # one (rows, O) XOR + popcount per word: no 3-D temporary, no reduce
            np.bitwise_xor(xt[j, start:stop, None], wt[j][None, :], out=diff)
            np.bitwise_count(diff, out=ones)
            acc += ones
        np.subtract(k, acc, out=out[start:stop], casting="unsafe")

    if len(spans) > 1:
        list(_pool().map(block, spans))
    elif spans:
        block(spans[0])
    return out


@functools.cache
def _pool():
    return ThreadPoolExecutor(max_workers=os.cpu_count() or 1, thread_name_prefix="bitfold-ref")


def binary_dense(x_bits: np.ndarray, w_bits: np.ndarray) -> np.ndarray:
    """``dot = 2 * popcount(XNOR(x, w)) - K`` for bits ``x (M, K)`` and ``w (O, K)``; int32 ``(M, O)``."""
    k = w_bits.shape[1]
    return 2 * xnor_popcount(pack_bits(x_bits), pack_bits(w_bits), k) - k


def int_dense(x: np.ndarray, w_bits: np.ndarray) -> np.ndarray:
    """``sum_{w=1} x - sum_{w=0} x`` for integers ``x (M, K)`` and bits ``w (O, K)``; int32 ``(M, O)``.

    A float matrix product is exact while every partial sum is an integer below the mantissa:
    float32 when ``K * max|x| < 2^24``, else float64 (up to 2^53).
    """
    bound = int(np.abs(x).max(initial=0)) * x.shape[1] if x.size else 0
    if bound >= 2**53:
        raise BitfoldError("integer accumulator exceeds 2^53; the float64 product would not be exact")
    dtype = np.float32 if bound < 2**24 else np.float64
    signs = (2 * w_bits.astype(dtype) - 1).T
    return (x.astype(dtype, copy=False) @ signs).astype(np.int32 if bound < 2**31 else np.int64)


def conv_windows(x: np.ndarray, kernel, stride, pads, pad_value) -> np.ndarray:
    """im2col: ``x (N, C, H, W)`` -> ``(N, OH, OW, C * KH * KW)``, each window in (C, KH, KW) order,
    after padding with ``pads`` = (top, left, bottom, right) of ``pad_value``."""
    t, l, b, r = pads
    if any(pads):
        x = np.pad(x, ((0, 0), (0, 0), (t, b), (l, r)), constant_values=pad_value)
    kh, kw = kernel
    sh, sw = stride
    win = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]
    n, c, oh, ow = win.shape[:4]
    return np.ascontiguousarray(win.transpose(0, 2, 3, 1, 4, 5)).reshape(n, oh, ow, c * kh * kw)


def int_matmul(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """``x (M, K) @ w.T`` for integers (int64 ``w (O, K)``), exact through a float product."""
    bound = int(np.abs(x).max(initial=0)) * int(np.abs(w).sum(axis=1).max(initial=0)) if x.size else 0
    if bound >= 2**53:
        raise BitfoldError("integer accumulator exceeds 2^53; the float64 product would not be exact")
    dtype = np.float32 if bound < 2**24 else np.float64
    return (x.astype(dtype, copy=False) @ w.astype(dtype).T).astype(np.int64)


def jet_conv(x: np.ndarray, t_in, node) -> np.ndarray:
    """A jet layer as the convolution with its integer kernels (binary inputs as -1 / +1)."""
    if t_in.kind == Kind.BITS:
        x = 2 * x.astype(np.int64) - 1
        pad = 2 * node.pad_value - 1
    else:
        pad = node.pad_value
    cols = conv_windows(x, (3, 3), node.stride, node.pads, pad)
    n, oh, ow, k = cols.shape
    acc = int_matmul(cols.reshape(-1, k), node.int_kernels.reshape(len(node.coeffs), -1))
    return acc.reshape(n, oh, ow, -1).transpose(0, 3, 1, 2)


def quantize(node: Quantize, x: np.ndarray) -> np.ndarray:
    """Float model input -> codes, in float32 exactly as QONNX executes ``Mul``/``Add``/``Quant``."""
    x = np.asarray(x, dtype=np.float32)
    for kind, c in node.pre:
        x = _FLOAT_BINARY[kind](x, np.float32(c))
    if node.bipolar:
        return (x >= 0).astype(np.uint8)
    y = x / np.float32(node.scale) + np.float32(node.zero_point)
    lo, hi = _int_limits(node.bitwidth, node.signed, node.narrow)
    y = np.clip(y, lo, hi)
    y = _ROUNDING[node.rounding.upper()](y)
    return (y - np.float32(node.zero_point)).astype(np.int32)


def float_ops(ops, x: np.ndarray) -> np.ndarray:
    """Apply a :class:`FloatOps` chain in float32 along axis 1 of ``x (N, C, ...)``."""
    x = np.asarray(x, dtype=np.float32)
    for kind, params in ops:
        if kind == "bn":
            scale, bias, mean, var, eps = params
            x = (x - _chan(mean, x)) / np.sqrt(_chan(var, x) + np.float32(eps)) * _chan(scale, x) + _chan(bias, x)
        else:
            x = _FLOAT_BINARY[kind](x, _chan(params, x))
    return x


def threshold(acc: np.ndarray, thresholds: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """Per-channel compare along axis 1: ``acc >= T`` (direction +1) or ``acc <= T`` (-1) -> bits."""
    t = _chan(thresholds, acc)
    up = _chan(directions, acc) > 0
    return np.where(up, acc >= t, acc <= t).astype(np.uint8)


def maxpool_or(x: np.ndarray, kernel, stride) -> np.ndarray:
    """OR of bits over each window of ``x (N, C, H, W)``, no padding (floor output size)."""
    (kh, kw), (sh, sw) = kernel, stride
    oh, ow = (x.shape[2] - kh) // sh + 1, (x.shape[3] - kw) // sw + 1
    out = np.zeros(x.shape[:2] + (oh, ow), dtype=np.uint8)
    for i in range(kh):  # one strided OR per kernel position: no window view, no reduce
        for j in range(kw):
            out |= x[:, :, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw]
    return out


def scores(acc: np.ndarray, sign: int, bias) -> np.ndarray:
    return sign * acc + (0 if bias is None else np.asarray(bias, dtype=np.int64))


def argmax(s: np.ndarray) -> np.ndarray:
    """Class per row: the first index of the maximum (ties go to the lowest index, as torch)."""
    return np.argmax(s, axis=1)


# -- the interpreter --------------------------------------------------------------------------

def run(graph: Graph, x: np.ndarray, *, from_codes: bool = False, keep: bool = False):
    """Run a batch through ``graph``.

    Parameters
    ----------
    x : numpy.ndarray
        Float model inputs ``(N, *graph.input.shape)``, or, with ``from_codes``, the codes the
        :class:`Quantize` node would produce (what the hardware receives).
    keep : bool
        Return ``{node name: output}`` for every node instead of only the last output.
    """
    first = graph.nodes[0].out if from_codes else graph.input
    x = np.asarray(x)
    if x.ndim != len(first.shape) + 1 or tuple(x.shape[1:]) != first.shape:
        what = "codes" if from_codes else "input"
        raise BitfoldError(
            f"wrong {what} shape {tuple(x.shape)}: the model expects (batch, {', '.join(map(str, first.shape))})"
        )
    outputs = {}
    for i, node in enumerate(graph.nodes):
        if i == 0 and from_codes:
            x = x.astype(np.uint8 if node.out.kind == Kind.BITS else np.int32)
        else:
            x = _step(node, graph.in_type(i), x)
        if keep:
            outputs[node.name] = x
    return outputs if keep else x


def classify(graph: Graph, x: np.ndarray, **kwargs) -> np.ndarray:
    """Classes of a batch: the argmax of the final scores."""
    return argmax(run(graph, x, **kwargs))


def _step(node, t_in, x):
    if isinstance(node, Quantize):
        return quantize(node, x)
    if isinstance(node, Dense):
        if t_in.kind == Kind.BITS:
            return _binary_layer(x, node.weights, node.schedule)
        return int_dense(x, node.weights)
    if isinstance(node, Conv):
        cols = conv_windows(x, node.kernel, node.stride, node.pads, node.pad_value)
        n, oh, ow, k = cols.shape
        flat = cols.reshape(-1, k)
        w = node.weights.reshape(len(node.weights), -1)
        acc = _binary_layer(flat, w, node.schedule) if t_in.kind == Kind.BITS else int_dense(flat, w)
        return acc.reshape(n, oh, ow, -1).transpose(0, 3, 1, 2)  # NCHW view, no copy
    if isinstance(node, JetConv):
        return jet_conv(x, t_in, node)
    if isinstance(node, FloatOps):
        return float_ops(node.ops, _to_float(x, t_in))
    if isinstance(node, Sign):
        return (x >= 0).astype(np.uint8)
    if isinstance(node, Threshold):
        return threshold(x, node.thresholds, node.directions)
    if isinstance(node, MaxPool):
        return maxpool_or(x, node.kernel, node.stride)
    if isinstance(node, Flatten):
        if node.order == "hwc" and x.ndim == 4:
            x = x.transpose(0, 2, 3, 1)
        return x.reshape(len(x), -1)
    if isinstance(node, Scores):
        return scores(x, node.sign, node.bias)
    raise BitfoldError(f"IR node {node.name} has op {node.op}, which the reference cannot run")


def _binary_layer(x, w, schedule):
    """dot = 2p - K, with the popcounts computed the scheduled (MST) way when there is a schedule."""
    if schedule is None:
        return binary_dense(x, w)
    from .schedule import scheduled_popcounts

    return (2 * scheduled_popcounts(x, w, schedule) - w.shape[1]).astype(np.int32)


def _to_float(x, t_in):
    if t_in.kind == Kind.FLOAT:
        return x
    return dequantize(x, t_in.scale)


def dequantize(x: np.ndarray, scale: float) -> np.ndarray:
    """The float32 value a QONNX graph holds for an integer tensor: ``value * scale``, rounded once."""
    return (np.asarray(x, dtype=np.float64) * scale).astype(np.float32)


def _chan(p, x):
    p = np.asarray(p)
    if p.ndim == 0:
        return p.astype(x.dtype) if x.dtype.kind == "f" else p
    return p.reshape((1, -1) + (1,) * (x.ndim - 2))


def _int_limits(bits, signed, narrow):
    if signed:
        return -(2 ** (bits - 1)) + int(narrow), 2 ** (bits - 1) - 1
    return 0, 2**bits - 1 - int(narrow)


_FLOAT_BINARY = {
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "div": np.divide,
}

_ROUNDING = {
    "ROUND": np.round,
    "HALF_EVEN": np.round,
    "CEIL": np.ceil,
    "FLOOR": np.floor,
    "DOWN": np.fix,
    "UP": lambda y: np.sign(y) * np.ceil(np.abs(y)),
    "HALF_UP": lambda y: np.sign(y) * np.floor(np.abs(y) + 0.5),
    "HALF_DOWN": lambda y: np.sign(y) * np.ceil(np.abs(y) - 0.5),
}
