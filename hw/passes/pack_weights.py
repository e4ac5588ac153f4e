"""Weight-memory layout of every folded layer, and the weight matrix in hardware column order.

Hardware reads a convolution window pixel by pixel with the channels of each pixel together, so
its columns are in (KH, KW, C) order, where the IR keeps ONNX's (C, KH, KW). The memory of a layer
folded PE x SIMD holds ``(O/PE) * (K/SIMD)`` words of ``PE * SIMD`` bits
(:meth:`hw.rtl.mvtu.MVTU.weight_words`); a constant-mode layer keeps the same words in logic.
"""

import dataclasses

import numpy as np

from ..errors import BitfoldError
from ..ir.graph import Conv, Dense, Graph, JetConv

__all__ = ["pack_weights", "hw_weights"]


def hw_weights(node) -> np.ndarray:
    """Weight bits ``(O, K)`` with columns in the order the hardware streams elements."""
    w = node.weights
    if isinstance(node, Conv):
        return np.ascontiguousarray(w.transpose(0, 2, 3, 1).reshape(w.shape[0], -1))
    return w


def pack_weights(graph: Graph) -> Graph:
    nodes = []
    for node in graph.nodes:
        if isinstance(node, Dense | Conv | JetConv):
            f = node.folding
            if f is None:
                raise BitfoldError(f"IR node {node.name}: pack_weights needs a folding; run the fold pass first")
            o, k = node.weights.shape[0], node.fan_in
            if isinstance(node, JetConv):  # no memory: the coefficients are wiring
                nodes.append(node)
                continue
            node = node.replace(folding=dataclasses.replace(f, mem_depth=(o // f.pe) * (k // f.simd),
                                                                mem_width=f.pe * f.simd))
        nodes.append(node)
    return graph.replace(nodes)
