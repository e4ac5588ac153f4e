"""Small hand-built IR graphs shared by the IR tests."""

import numpy as np

from hw.ir.graph import Conv, Dense, Flatten, FloatOps, Graph, MaxPool, Quantize, Scores, Sign, TensorType, Threshold
from hw.ir.ranges import acc_range

__all__ = ["small_graph"]


def small_graph(seed=0):
    """Quantize -> Conv -> BN -> Sign -> MaxPool -> Flatten -> Dense -> Threshold -> Dense -> Scores."""
    rng = np.random.default_rng(seed)
    w1 = rng.integers(0, 2, (4, 1, 3, 3), dtype=np.uint8)
    w2 = rng.integers(0, 2, (5, 16), dtype=np.uint8)
    w3 = rng.integers(0, 2, (3, 5), dtype=np.uint8)
    lo, hi, _ = acc_range(w1, "int", 0, 255)
    bn = (np.ones(4, np.float32), np.zeros(4, np.float32), np.arange(4, dtype=np.float32), np.ones(4, np.float32), 1e-5)
    nodes = (
        Quantize("q", TensorType((1, 6, 6), "int", 0, 255, 2**-8), "q_out", pre=(("mul", 1.0),), scale=2**-8),
        Conv("c", TensorType((4, 4, 4), "int", int(lo.min()), int(hi.max()), 2**-8), weights=w1),
        FloatOps("bn", TensorType((4, 4, 4), "float"), ops=(("bn", bn),)),
        Sign("s", TensorType((4, 4, 4), "bits", 0, 1), "s_out"),
        MaxPool("p", TensorType((4, 2, 2), "bits", 0, 1), kernel=(2, 2), stride=(2, 2)),
        Flatten("f", TensorType((16,), "bits", 0, 1)),
        Dense("d", TensorType((5,), "int", -16, 16), weights=w2),
        Threshold("t", TensorType((5,), "bits", 0, 1), thresholds=np.arange(5) - 2,
                  directions=np.array([1, -1, 1, 1, -1], np.int8)),
        Dense("e", TensorType((3,), "int", -5, 5), weights=w3),
        Scores("sc", TensorType((3,), "int", -5, 5), sign=1, bias=np.zeros(3, np.int64)),
    )
    return Graph(TensorType((1, 6, 6), "float"), nodes, {"source": "test"})


def random_net(seed=0, in_shape=(1, 8, 8), in_bits=8, convs=((3, 1, 0),), pool=2, dense=(12,), classes=5,
               signed_input=False):
    """A small streamlined network with seeded random weights and channel counts:
    Quantize -> [Conv(k, stride, pad) -> threshold]... -> [MaxPool] -> Flatten -> [Dense -> threshold]...
    -> Dense -> Scores."""
    from hw.synthetic import synthetic_graph

    rng = np.random.default_rng(seed)
    layers = [("conv", int(rng.integers(2, 7)), k, s, p) for k, s, p in convs]
    h = in_shape[1]
    for _, _, k, s, p in layers:
        h = (h + 2 * p - k) // s + 1
    if pool and convs and h >= pool:
        layers.append(("pool", pool))
    layers += [("dense", d) for d in dense]
    return synthetic_graph(layers, in_shape, in_bits, signed_input, classes, seed)
