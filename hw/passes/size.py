"""Stream and accumulator widths of every folded layer, from the IR's integer ranges.

Fills ``Folding.in_bits`` / ``in_signed`` (element width of the input stream; 0 for binary) and
``acc_bits`` (the hardware accumulator: popcount ``0..K`` for binary inputs, the signed sum for
integer inputs).
"""

import dataclasses

from ..errors import BitfoldError
from ..ir.graph import Conv, Dense, Graph, JetConv

__all__ = ["size_widths"]


def size_widths(graph: Graph) -> Graph:
    nodes = []
    for i, node in enumerate(graph.nodes):
        if isinstance(node, Dense | Conv | JetConv):
            f = node.folding
            if f is None:
                raise BitfoldError(f"IR node {node.name}: size_widths needs a folding; run the fold pass first")
            t_in = graph.in_type(i)
            k = node.fan_in
            if isinstance(node, JetConv):
                from ..ir.ranges import int_kernel_range

                lo, hi, _ = int_kernel_range(node.int_kernels, t_in.kind, t_in.lo, t_in.hi)
                in_bits = 0 if t_in.kind == "bits" else t_in.bits
                acc = max(int(hi.max()).bit_length(), int(-lo.min()).bit_length()) + 1
                node = node.replace(folding=dataclasses.replace(f, in_bits=in_bits, in_signed=t_in.lo < 0,
                                                                acc_bits=acc))
                nodes.append(node)
                continue
            if t_in.kind == "bits":
                in_bits, in_signed, acc = 0, False, k.bit_length()
            else:
                in_bits, in_signed = t_in.bits, t_in.lo < 0
                m = max(abs(t_in.lo), abs(t_in.hi)) * k
                acc = m.bit_length() + 1
            node = node.replace(folding=dataclasses.replace(f, in_bits=in_bits, in_signed=in_signed, acc_bits=acc))
        nodes.append(node)
    return graph.replace(nodes)
