"""Analyses of a design: functions that return figures, never change the graph or the plan.

Cycles, latency and storage are read from the hardware plan (:mod:`hw.plan`), where each figure
is computed once; what a layer *computes* (multiply-accumulates per image) from the IR.
"""

import numpy as np

from .ir.graph import Conv, Dense, Graph, JetConv
from .plan import Plan

__all__ = ["layer_cycles", "cycles_per_image", "latency", "storage", "binary_ops"]


def layer_cycles(plan: Plan) -> dict:
    """Cycles per image of the input stream and of every layer (the slowest sets the rate)."""
    return dict(plan.layer_cycles)


def cycles_per_image(plan: Plan) -> int:
    """The pipeline's initiation interval in cycles per image: its slowest stage."""
    return plan.cycles_per_image


def latency(plan: Plan) -> int:
    """Cycles from the first input beat of an image to its result through an empty pipeline
    without stalls (``bitfold sim`` measures it)."""
    return plan.latency


def storage(plan: Plan) -> dict:
    """Per layer: ``{"register_bits", "memory_bits"}`` summed over its stages (each unit's plan
    states its own; weight memories and FIFOs are memory, line buffers registers)."""
    return {layer.name: {"register_bits": layer.register_bits, "memory_bits": layer.memory_bits}
            for layer in plan.layers}


def binary_ops(graph: Graph) -> dict:
    """Per layer: multiply-accumulates per image (XNORs for binary inputs, additions for k-bit)."""
    out = {}
    for n in graph.nodes:
        if isinstance(n, JetConv):  # jets once per channel (16 additions), then the chosen terms
            out[n.name] = int(n.vectors * (16 * n.coeffs.shape[1] + np.count_nonzero(n.coeffs)))
        elif isinstance(n, Dense | Conv):
            out[n.name] = int(n.vectors * n.weights.shape[0] * n.fan_in)
    return out
