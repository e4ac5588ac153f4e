"""Structural checks of an IR graph: kinds, shapes, ranges and parameters chain from node to node.

Run between passes with ``BITFOLD_DEBUG=1`` and after import; a failure names the pass and the node.
"""

import numpy as np

from ..errors import BitfoldError
from .graph import Conv, Dense, Flatten, FloatOps, Graph, JetConv, Kind, MaxPool, Quantize, Scores, Sign, Threshold
from .ranges import acc_range, layer_acc_range

__all__ = ["verify"]


def verify(graph: Graph, after: str = "") -> Graph:
    """Return ``graph`` unchanged if it is well formed, else raise :class:`BitfoldError`."""
    where = f" after {after}" if after else ""

    def fail(node, msg):
        raise BitfoldError(f"IR check failed{where}: node {node.name} ({node.op}): {msg}")

    if not graph.nodes or not isinstance(graph.nodes[0], Quantize):
        raise BitfoldError(f"IR check failed{where}: the first node must be a Quantize")
    if graph.input.kind != Kind.FLOAT:
        raise BitfoldError(f"IR check failed{where}: the graph input must be float")
    for i, node in enumerate(graph.nodes):
        t_in, t = graph.in_type(i), node.out
        if isinstance(node, Quantize):
            if i:
                fail(node, "Quantize may only be the first node")
            if t.shape != t_in.shape:
                fail(node, f"output shape {t.shape} differs from input shape {t_in.shape}")
            if node.bipolar != (t.kind == Kind.BITS):
                fail(node, "bipolar quantizer must output bits, a k-bit one integers")
        elif isinstance(node, Dense | Conv):
            if t_in.kind not in ("bits", "int"):
                fail(node, f"reads a {t_in.kind} tensor; needs bits or int")
            w = node.weights
            if w is None or w.dtype != np.uint8 or (w.size and w.max() > 1):
                fail(node, "weights must be a uint8 array of bits")
            if isinstance(node, Dense):
                if w.ndim != 2 or w.shape[1] != t_in.size or t.shape != (w.shape[0],):
                    fail(node, f"weights {w.shape} do not map input {t_in.shape} to output {t.shape}")
            else:
                if w.ndim != 4 or len(t_in.shape) != 3 or w.shape[1] != t_in.shape[0]:
                    fail(node, f"weights {w.shape} do not fit input {t_in.shape}")
                _, h, wd = t_in.shape
                top, left, bottom, right = node.pads
                oh = (h + top + bottom - w.shape[2]) // node.stride[0] + 1
                ow = (wd + left + right - w.shape[3]) // node.stride[1] + 1
                if t.shape != (w.shape[0], oh, ow):
                    fail(node, f"output shape {t.shape}, expected {(w.shape[0], oh, ow)}")
                if t_in.kind == Kind.BITS and node.pad_value not in (0, 1):
                    fail(node, f"pad value {node.pad_value} is not a bit")
                if t_in.kind == Kind.INT and any(node.pads) and not t_in.lo <= node.pad_value <= t_in.hi:
                    fail(node, f"pad value {node.pad_value} outside the input range [{t_in.lo}, {t_in.hi}]")
            f = node.folding
            if f is not None:
                o, k = w.shape[0], int(np.prod(w.shape[1:]))
                if o % f.pe or k % f.simd or f.mode not in ("memory", "constant"):
                    fail(node, f"folding PE={f.pe} SIMD={f.simd} mode={f.mode!r} does not fit {o} x {k}")
            lo, hi, _ = acc_range(w, t_in.kind, t_in.lo, t_in.hi)
            if t.kind != Kind.INT or (t.lo, t.hi) != (int(lo.min()), int(hi.max())):
                fail(node, f"accumulator range [{t.lo}, {t.hi}] differs from the reachable "
                           f"[{int(lo.min())}, {int(hi.max())}]")
        elif isinstance(node, JetConv):
            c = node.coeffs
            if c is None or c.ndim != 3 or c.shape[2] != 9 or len(t_in.shape) != 3 or c.shape[1] != t_in.shape[0]:
                fail(node, f"coefficients {None if c is None else c.shape} do not fit input {t_in.shape}")
            if np.any(np.abs(c) > 1):
                fail(node, "jet coefficients must be -1, 0 or +1")
            lo, hi, _ = layer_acc_range(node, t_in)
            if t.kind != Kind.INT or (t.lo, t.hi) != (int(lo.min()), int(hi.max())):
                fail(node, f"accumulator range [{t.lo}, {t.hi}] differs from [{int(lo.min())}, {int(hi.max())}]")
        elif isinstance(node, FloatOps):
            if t.kind != Kind.FLOAT or t.shape != t_in.shape:
                fail(node, "must map a tensor to a float tensor of the same shape")
        elif isinstance(node, Sign):
            if t_in.kind == Kind.BITS or t.kind != Kind.BITS or t.shape != t_in.shape:
                fail(node, "must map an int or float tensor to bits of the same shape")
        elif isinstance(node, Threshold):
            c = t_in.shape[0]
            if t_in.kind != Kind.INT or t.kind != Kind.BITS or t.shape != t_in.shape:
                fail(node, "must map an int tensor to bits of the same shape")
            if node.thresholds.shape != (c,) or node.directions.shape != (c,):
                fail(node, f"needs {c} thresholds and directions")
            if not np.all(np.abs(node.directions) == 1):
                fail(node, "directions must be +1 or -1")
        elif isinstance(node, MaxPool):
            if t_in.kind != Kind.BITS or t.kind != Kind.BITS:
                fail(node, "pools bits only")
            c, h, wd = t_in.shape
            (kh, kw), (sh, sw) = node.kernel, node.stride
            if t.shape != (c, (h - kh) // sh + 1, (wd - kw) // sw + 1):
                fail(node, f"output shape {t.shape} does not match kernel {node.kernel} stride {node.stride}")
        elif isinstance(node, Flatten):
            if t.shape != (t_in.size,) or t.kind != t_in.kind:
                fail(node, f"must flatten {t_in.shape} to ({t_in.size},)")
            if node.order not in ("chw", "hwc"):
                fail(node, f"order must be 'chw' or 'hwc', not {node.order!r}")
        elif isinstance(node, Scores):
            if i != len(graph.nodes) - 1:
                fail(node, "Scores must be the last node")
            if t_in.kind != Kind.INT or t.shape != t_in.shape or node.sign not in (1, -1):
                fail(node, "must map the last accumulator to integer scores, sign +1 or -1")
            if node.bias is None or node.bias.shape != t.shape:
                fail(node, f"bias must have shape {t.shape}")
        else:
            fail(node, "unknown node type")
    return graph
