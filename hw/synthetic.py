"""Networks with seeded random weights, built through the real streamlining passes.

Used wherever a network's structure matters but its training does not: hardware tests, the
estimator's regression set, benchmarks. BatchNorm statistics are drawn so that thresholds land
inside each accumulator's typical range (so every threshold and direction case occurs).
"""

import numpy as np

from .ir.graph import Conv, Dense, Flatten, FloatOps, Graph, JetConv, Kind, MaxPool, Quantize, Sign, TensorType
from .ir.ranges import acc_range

__all__ = ["synthetic_graph"]


def synthetic_graph(layers, in_shape=(1, 8, 8), in_bits=8, signed_input=False, classes=10, seed=0):
    """A streamlined IR graph.

    ``layers``: a sequence of ``("conv", out_channels, kernel, stride, pad)``, ``("jet", out_channels)``
    (a constrained 3x3 jet layer, valid padding),
    ``("pool", kernel)`` and ``("dense", width)``; the scores layer (``classes`` wide) is added at the
    end, and a flatten before the first dense layer. ``in_bits`` 1 makes a binarized input.
    """
    from .passes import streamline

    rng = np.random.default_rng(seed)
    if in_bits == 1:
        t = TensorType(in_shape, "bits", 0, 1)
        nodes = [Quantize("in", t, bipolar=True)]
    else:
        lo, hi = (-(2 ** (in_bits - 1)), 2 ** (in_bits - 1) - 1) if signed_input else (0, 2**in_bits - 1)
        t = TensorType(in_shape, "int", lo, hi, 2.0 ** -in_bits)
        nodes = [Quantize("in", t, scale=2.0 ** -in_bits, bitwidth=in_bits, signed=signed_input)]

    def bn(n, fan_in, t_in):
        f = np.float32
        mag = fan_in**0.5 * (1.0 if t_in.kind == Kind.BITS else max(abs(t_in.lo), abs(t_in.hi)) * t_in.scale / 2)
        return ("bn", (rng.standard_normal(n).astype(f), (rng.standard_normal(n) * 0.3).astype(f),
                       (rng.standard_normal(n) * mag * 0.5).astype(f), (rng.random(n) * mag**2 + 0.1).astype(f),
                       1e-5))

    def binary_layer(node_cls, name, wt, out_shape, **kw):
        nonlocal t
        lo, hi, _ = acc_range(wt, t.kind, t.lo, t.hi)
        acc = TensorType(out_shape, "int", int(lo.min()), int(hi.max()), t.scale)
        return node_cls(name, acc, weights=wt, **kw)

    counts = {"conv": 0, "pool": 0, "dense": 0}
    specs = list(layers) + [("scores", classes)]
    for spec in specs:
        kind = spec[0]
        if kind == "conv":
            _, out_c, k, stride, pad = spec
            c, h, w = t.shape
            j = counts["conv"]
            wt = rng.integers(0, 2, (out_c, c, k, k), dtype=np.uint8)
            pad_value = int(rng.integers(0, 2)) if t.kind == Kind.BITS else 0
            shape = (out_c, (h + 2 * pad - k) // stride + 1, (w + 2 * pad - k) // stride + 1)
            nodes += [binary_layer(Conv, f"conv{j}", wt, shape, stride=(stride, stride), pads=(pad,) * 4,
                                   pad_value=pad_value),
                      FloatOps(f"bn{j}", TensorType(shape, "float"), ops=(bn(out_c, c * k * k, t),)),
                      Sign(f"sign{j}", TensorType(shape, "bits"))]
            t = TensorType(shape, "bits")
        elif kind == "jet":
            from .ir.ranges import int_kernel_range

            out_c = spec[1]
            c, h, w = t.shape
            j = counts.get("jet", 0)
            co = np.zeros((out_c, c, 9), np.int8)
            co[np.arange(out_c)[:, None], np.arange(c)[None, :], rng.integers(0, 9, (out_c, c))] = \
                rng.choice([-1, 1], (out_c, c))
            node = JetConv(f"jet{j}", TensorType((out_c, h - 2, w - 2), "int"), coeffs=co)
            lo, hi, _ = int_kernel_range(node.int_kernels, t.kind, t.lo, t.hi)
            shape = (out_c, h - 2, w - 2)
            node = node.replace(out=TensorType(shape, "int", int(lo.min()), int(hi.max()), t.scale))
            f = np.float32
            mag = float(np.abs(hi).mean()) * t.scale / 4 + 1e-3
            nodes += [node, FloatOps(f"jbn{j}", TensorType(shape, "float"),
                                     ops=(("bn", (rng.standard_normal(out_c).astype(f), np.zeros(out_c, f),
                                                  (rng.standard_normal(out_c) * mag).astype(f),
                                                  np.full(out_c, mag**2, f), 1e-5)),)),
                      Sign(f"jsign{j}", TensorType(shape, "bits"))]
            t = TensorType(shape, "bits")
        elif kind == "pool":
            k = spec[1]
            c, h, w = t.shape
            shape = (c, (h - k) // k + 1, (w - k) // k + 1)
            nodes.append(MaxPool(f"pool{counts['pool']}", TensorType(shape, "bits"), kernel=(k, k), stride=(k, k)))
            t = nodes[-1].out
        else:
            if len(t.shape) == 3:
                nodes.append(Flatten("flat", TensorType((t.size,), t.kind, t.lo, t.hi, t.scale)))
                t = nodes[-1].out
            o = spec[1]
            j = counts["dense"]
            wt = rng.integers(0, 2, (o, t.size), dtype=np.uint8)
            nodes.append(binary_layer(Dense, f"fc{j}", wt, (o,)))
            if kind == "dense":
                nodes += [FloatOps(f"fbn{j}", TensorType((o,), "float"), ops=(bn(o, t.size, t),)),
                          Sign(f"fsign{j}", TensorType((o,), "bits"))]
                t = TensorType((o,), "bits")
            kind = "dense"
        counts[kind] = counts.get(kind, 0) + 1
    return streamline(Graph(TensorType(in_shape, "float"), tuple(nodes), {"source": "synthetic", "seed": seed}))
