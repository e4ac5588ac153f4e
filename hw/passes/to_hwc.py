"""Flatten in the order pixels stream in hardware (H, W, C) instead of ONNX's (C, H, W).

A feature map streams one pixel (all channels) per beat, so a flattened vector arrives in H, W, C
order. The pass marks each ``Flatten`` of a (C, H, W) tensor ``order="hwc"`` and permutes the
columns of the dense layer that reads it, so the graph computes exactly what it did before.
"""

import numpy as np

from ..errors import BitfoldError
from ..ir.graph import Dense, Flatten, Graph

__all__ = ["to_hwc", "hwc_permutation"]


def hwc_permutation(shape):
    """Index map ``p`` with ``hwc_vector = chw_vector[p]`` for a (C, H, W) tensor."""
    c, h, w = shape
    return np.arange(c * h * w).reshape(c, h, w).transpose(1, 2, 0).ravel()


def to_hwc(graph: Graph) -> Graph:
    nodes = list(graph.nodes)
    for i, node in enumerate(nodes):
        if not isinstance(node, Flatten) or node.order == "hwc":
            continue
        shape = graph.in_type(i).shape
        nodes[i] = node.replace(order="hwc")
        if len(shape) != 3:
            continue
        nxt = nodes[i + 1] if i + 1 < len(nodes) else None
        if not isinstance(nxt, Dense):
            raise BitfoldError(f"IR node {node.name}: a Flatten must feed a dense layer, not "
                               f"{nxt.op if nxt else 'the output'}")
        nodes[i + 1] = nxt.replace(weights=np.ascontiguousarray(nxt.weights[:, hwc_permutation(shape)]))
    return graph.replace(nodes)
