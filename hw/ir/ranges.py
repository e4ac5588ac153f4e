"""Reachable accumulator values of a binary-weight layer, per output channel.

Shared by the threshold fold (which proves a fold exact over every reachable value), by width
sizing, and by :mod:`bnn.export` (which centres BatchNorm thresholds between reachable values), so
training and hardware agree on one definition.
"""

import numpy as np

from .graph import Kind

__all__ = ["acc_range", "int_kernel_range", "layer_acc_range"]


def acc_range(weights: np.ndarray, in_kind: str, in_lo: int = 0, in_hi: int = 1):
    """Per-channel ``(lo, hi, step)`` of the accumulator of a binary-weight layer.

    Parameters
    ----------
    weights : numpy.ndarray
        uint8 weight bits, ``(O, ...)``; the fan-in K is the product of the trailing dimensions.
    in_kind : str
        ``"bits"``: acc = 2 * popcount - K takes every value of K's parity in [-K, K] (step 2).
        ``"int"``: inputs are integers in ``[in_lo, in_hi]``; acc = sum_{w=1} x - sum_{w=0} x takes
        every integer between ``n1 * in_lo - n0 * in_hi`` and ``n1 * in_hi - n0 * in_lo`` (step 1),
        where n1 and n0 count the channel's +1 and -1 weights. Padding with a code inside
        ``[in_lo, in_hi]`` stays within this range.

    Returns
    -------
    lo, hi : numpy.ndarray
        int64 arrays of shape ``(O,)``.
    step : int
    """
    w = np.asarray(weights).reshape(len(weights), -1)
    k = w.shape[1]
    if in_kind == Kind.BITS:
        return np.full(len(w), -k, dtype=np.int64), np.full(len(w), k, dtype=np.int64), 2
    n1 = w.sum(axis=1, dtype=np.int64)
    n0 = k - n1
    lo = n1 * in_lo - n0 * in_hi
    hi = n1 * in_hi - n0 * in_lo
    return lo.astype(np.int64), hi.astype(np.int64), 1


def int_kernel_range(kernels: np.ndarray, in_kind: str, in_lo: int = 0, in_hi: int = 1):
    """Per-channel ``(lo, hi, 1)`` of ``sum_k K[o, k] * x[k]`` for integer weights ``K (O, ...)``;
    a binary input counts as -1 / +1. Step 1: a superset of the reachable values (a proof over it
    covers them all)."""
    k = np.asarray(kernels, dtype=np.int64).reshape(len(kernels), -1)
    lo_x, hi_x = (-1, 1) if in_kind == Kind.BITS else (in_lo, in_hi)
    lo = np.minimum(k * lo_x, k * hi_x).sum(axis=1)
    hi = np.maximum(k * lo_x, k * hi_x).sum(axis=1)
    return lo.astype(np.int64), hi.astype(np.int64), 1


def layer_acc_range(node, t_in):
    """``(lo, hi, step)`` of any accumulating layer's output channels, given its input type."""
    kernels = getattr(node, "int_kernels", None)
    if kernels is not None:
        return int_kernel_range(kernels, t_in.kind, t_in.lo, t_in.hi)
    return acc_range(node.weights, t_in.kind, t_in.lo, t_in.hi)
