"""Choosing a folding: the cheapest PE x SIMD of every layer that meets a target of cycles per image.

The cycle counts are the plan's own timing models (:mod:`hw.plan.timing`), so the folding chosen
here meets its target exactly as the built design will.
"""

import functools

import numpy as np

from ..errors import BitfoldError
from ..ir.graph import Conv, Graph, JetConv, Kind, MaxPool
from ..passes.fold import LAYERS, default_mode, divisors
from .layout import input_layout
from .mvtu import MVTUPlan
from .outputs import ThresholdOut
from .timing import conv_cycles
from .window import window_steps

__all__ = ["auto_folding", "fastest", "fold_cost"]


def fold_cost(node, t_in, pe, simd):
    """Relative area of a folding: PE x SIMD terms, PE accumulators, the rotating input register
    (the widths from the layer's MVTU plan at that folding)."""
    binary = t_in.kind == Kind.BITS
    unit = MVTUPlan(node.name, _bits(node), pe, simd, ThresholdOut((), ()), in_bits=0 if binary else t_in.bits,
                    in_signed=t_in.lo < 0)
    rotate = 0 if simd == node.fan_in else unit.i_width
    return pe * simd * unit.term_width + pe * unit.compare_bits * 2 + rotate


def _bits(node):
    """The layer's weights as an (O, K) bit matrix (a jet layer's shape only: its cost is the same
    formula over its fan-in)."""
    o, k = node.weights.shape[0], node.fan_in
    return node.weights.reshape(o, k) if node.weights.dtype == np.uint8 else np.zeros((o, k), np.uint8)


def _cycles(node, t_in):
    """Cycles per image of a layer as a function of its cycles per vector."""
    if isinstance(node, Conv | JetConv):
        return functools.partial(conv_cycles, *window_steps(t_in.shape, node.kernel, node.stride, node.pads))
    return int


def fastest(graph: Graph) -> int:
    """The least target every layer can reach: the input rate, or a layer fully parallel."""
    floor = input_layout(graph).beats
    for i, n in enumerate(graph.nodes):
        if isinstance(n, Conv | JetConv):
            floor = max(floor, _cycles(n, graph.in_type(i))(1))
        elif isinstance(n, MaxPool):
            floor = max(floor, window_steps(graph.in_type(i).shape, n.kernel, n.stride, (0, 0, 0, 0))[0])
    return floor


def auto_folding(graph: Graph, target_cycles: int) -> dict:
    """The cheapest folding of every layer that meets ``target_cycles`` per image:
    ``{layer: {"pe", "simd", "mode"}}``."""
    if isinstance(target_cycles, bool) or not isinstance(target_cycles, int) or target_cycles < 1:
        raise BitfoldError(f"target cycles must be a positive integer, not {target_cycles!r}")
    floor = input_layout(graph).beats
    if floor > target_cycles:
        raise BitfoldError(f"target of {target_cycles} cycles per image cannot be met: the input alone "
                           f"streams {floor} beats per image; use --target-cycles {floor} or more")
    folding = {}
    for i, node in enumerate(graph.nodes):
        if not isinstance(node, LAYERS):
            continue
        t_in = graph.in_type(i)
        o, k = node.weights.shape[0], node.fan_in
        cycles = _cycles(node, t_in)
        least = cycles(1)
        if least > target_cycles:
            raise BitfoldError(f"layer {node.name}: even fully parallel it needs {least} cycles per image, more "
                               f"than the target of {target_cycles}; use --target-cycles {least} or more")
        best = None
        for pe in divisors(o):
            for simd in ([k] if isinstance(node, JetConv) else divisors(k)):
                if cycles((o // pe) * (k // simd)) > target_cycles:
                    continue
                key = (fold_cost(node, t_in, pe, simd), -simd)
                if best is None or key < best[0]:
                    best = (key, pe, simd)
        _, pe, simd = best
        folding[node.name] = {"pe": pe, "simd": simd, "mode": str(default_mode(node, pe, simd))}
    return folding


