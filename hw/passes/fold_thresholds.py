"""Fold accumulator -> float ops (BatchNorm, scales, biases) -> sign into integer thresholds.

For every output channel the float chain is evaluated, in float32 exactly as the reference
defines it, on *every* reachable accumulator value (:func:`hw.ir.ranges.acc_range`). The sign
pattern must be a step: ``acc >= T`` (direction +1) or ``acc <= T`` (direction -1, from a
negative BatchNorm scale; weights are not inverted, so Hamming distances between channels stay
what training produced). The resulting :class:`Threshold` is then checked against the float
chain on all those values again; any difference is an error naming the channel. Constant channels
get a threshold just outside their range.
"""

import numpy as np

from ..errors import BitfoldError
from ..ir.graph import Conv, Dense, FloatOps, Graph, JetConv, Sign, Threshold
from ..ir.interp import dequantize, float_ops, threshold
from ..ir.ranges import layer_acc_range

__all__ = ["fold_thresholds", "derive_thresholds"]

_BLOCK = 1 << 23  # values x channels evaluated at once


def fold_thresholds(graph: Graph) -> Graph:
    out = []
    for node in graph.nodes:
        if not isinstance(node, Sign):
            out.append(node)
            continue
        ops = ()
        if out and isinstance(out[-1], FloatOps):
            ops = out.pop().ops
        layer_index = len(out) - 1
        layer = out[layer_index] if out else None
        if not isinstance(layer, Dense | Conv | JetConv):
            raise BitfoldError(
                f"IR node {node.name}: a sign must follow a layer's accumulator (and optional float "
                f"ops); here it follows {layer.op if layer else 'the input'}"
            )
        t_in = graph.in_type(graph.nodes.index(layer))
        t, d = derive_thresholds(layer, t_in, ops, where=node.name)
        out.append(Threshold(node.name, node.out, node.src, thresholds=t, directions=d))
    return graph.replace(out)


def derive_thresholds(layer, t_in, ops, where=""):
    """Integer thresholds and directions, shape ``(C,)``, equal to ``sign(ops(acc * scale))`` on
    every reachable accumulator value of every channel of ``layer``."""
    lo, hi, step = layer_acc_range(layer, t_in)
    channels = len(lo)
    thresholds = np.empty(channels, dtype=np.int64)
    directions = np.empty(channels, dtype=np.int8)
    g_lo, g_hi = int(lo.min()), int(hi.max())
    values = np.arange(g_lo, g_hi + 1, step, dtype=np.int64)
    x = dequantize(values, layer.out.scale)[:, None]
    block = max(1, _BLOCK // len(values))
    for c0 in range(0, channels, block):
        cs = slice(c0, min(channels, c0 + block))
        chan_ops = tuple((k, _slice_params(k, p, cs)) for k, p in ops)
        s = float_ops(chan_ops, np.broadcast_to(x, (len(values), cs.stop - c0))) >= 0
        rise = np.any(~s[:-1] & s[1:], axis=0)
        fall = np.any(s[:-1] & ~s[1:], axis=0)
        bad = np.flatnonzero(rise & fall)
        if bad.size:
            c = c0 + int(bad[0])
            flips = values[1:][s[:-1, bad[0]] != s[1:, bad[0]]][:4].tolist()
            raise BitfoldError(
                f"IR node {where}: channel {c} is not a threshold function of the accumulator "
                f"(its sign flips at {flips}); the float ops before the sign are not monotone"
            )
        for j in range(s.shape[1]):
            c = c0 + j
            col = s[:, j]
            if fall[j]:
                directions[c] = -1
                thresholds[c] = values[np.flatnonzero(col)[-1]]
            else:
                directions[c] = 1
                ones = np.flatnonzero(col)
                thresholds[c] = values[ones[0]] if ones.size else g_hi + step
            # keep thresholds inside the channel's own range (plus one step): narrower hardware
            if directions[c] > 0:
                thresholds[c] = min(max(thresholds[c], lo[c]), hi[c] + step)
            else:
                thresholds[c] = min(max(thresholds[c], lo[c] - step), hi[c])
        # the proof: the folded compare equals the float chain on every reachable value
        for j in range(s.shape[1]):
            c = c0 + j
            reach = (values >= lo[c]) & (values <= hi[c])
            got = threshold(values[reach][:, None], thresholds[c:c + 1], directions[c:c + 1])[:, 0]
            if not np.array_equal(got.astype(bool), s[reach, j]):
                raise BitfoldError(f"IR node {where}: threshold fold of channel {c} is not exact")
    return thresholds, directions


def _slice_params(kind, p, cs):
    if kind == "bn":
        return tuple(_slice_params("", q, cs) for q in p[:4]) + (p[4],)
    p = np.asarray(p)
    return p if p.ndim == 0 else p[cs]
