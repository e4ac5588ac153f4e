"""Turn the last layer's accumulator (and any scalar float ops after it) into integer scores.

A scalar scale and offset after the last layer (a "tensor norm") cannot change which class wins
unless float32 rounding merges two distinct scores, or the scale is negative, which reverses the
order. The pass evaluates the float chain on every reachable score value: it must be strictly
increasing (``sign = +1``) or strictly decreasing (``sign = -1``); otherwise the argmax cannot be
reproduced with integers and the pass says so. Per-class float ops are rejected for the same
reason.
"""

import numpy as np

from ..errors import BitfoldError
from ..ir.graph import Conv, Dense, FloatOps, Graph, JetConv, Kind, Scores, TensorType
from ..ir.interp import dequantize, float_ops

__all__ = ["fold_scores"]


def fold_scores(graph: Graph) -> Graph:
    nodes = list(graph.nodes)
    if isinstance(nodes[-1], Scores):
        return graph
    ops, src = (), ""
    if isinstance(nodes[-1], FloatOps):
        last = nodes.pop()
        ops, src = last.ops, last.src
    layer = nodes[-1]
    if not isinstance(layer, Dense | Conv | JetConv):
        raise BitfoldError(
            f"IR node {layer.name}: the model must end in a layer's integer scores (optionally scaled); "
            f"it ends in {layer.op}"
        )
    for kind, p in ops:
        params = p[:4] if kind == "bn" else (p,)
        if any(np.ndim(q) and np.unique(q).size > 1 for q in params):
            raise BitfoldError(
                f"IR node {layer.name}: a per-class {kind} after the last layer cannot be folded into "
                "integer scores exactly (the argmax would depend on float rounding); use a scalar "
                "scale and offset, or none"
            )
    t = layer.out
    step = 2 if graph.in_type(len(nodes) - 1).kind == Kind.BITS else 1
    sign = 1
    if ops:
        values = np.arange(t.lo, t.hi + 1, step, dtype=np.int64)
        scalar_ops = tuple((k, _first(k, p)) for k, p in ops)
        f = float_ops(scalar_ops, dequantize(values, t.scale)[:, None])[:, 0]
        d = np.diff(f.astype(np.float64))
        if np.all(d > 0):
            sign = 1
        elif np.all(d < 0):
            sign = -1
        else:
            i = int(np.flatnonzero(d == 0)[0]) if np.any(d == 0) else 0
            raise BitfoldError(
                f"IR node {layer.name}: the float ops after the last layer map distinct scores to the "
                f"same or reversed values (e.g. {values[i]} and {values[i + 1]}); the argmax cannot be "
                "made exact with integers"
            )
    lo, hi = (t.lo, t.hi) if sign > 0 else (-t.hi, -t.lo)
    out = TensorType(t.shape, "int", lo, hi, 1.0)
    bias = np.zeros(t.shape[0], dtype=np.int64)
    nodes.append(Scores(f"{layer.name}_scores", out, src or graph.meta.get("qonnx_output", ""),
                        sign=sign, bias=bias))
    return graph.replace(nodes)


def _first(kind, p):
    if kind == "bn":
        return tuple(np.asarray(q).ravel()[:1].reshape(()) for q in p[:4]) + (p[4],)
    return np.asarray(p).ravel()[:1].reshape(())
