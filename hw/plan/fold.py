"""Choosing a folding: the pixels per beat of the input, and of every layer the windows per cycle,
PE x SIMD and weight mode, at the least area that meets a target of cycles per image.

The cycle counts are the plan's own timing models (:mod:`hw.plan.timing`) over the same window
generators and width converters the plan builds (:mod:`hw.plan.links`), so the folding chosen
here meets its target exactly as the built design will.
"""

import numpy as np

from ..errors import BitfoldError
from ..ir.graph import Conv, Dense, Flatten, Graph, JetConv, Kind, MaxPool
from ..passes.fold import INPUT, default_mode, divisors, input_pixels
from .links import Link, window_stages
from .mvtu import MVTUPlan
from .outputs import ThresholdOut
from .timing import conv_cycles

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


def _walk(graph: Graph, choose):
    """Walk the layers as the plan does, tracking each link's beat width. ``choose(i, node, t_in,
    link)`` returns a layer's folding dict (for Dense/Conv/JetConv) given the link into it."""
    t = graph.nodes[0].out
    link = Link(t.shape, 1 if t.kind == Kind.BITS else t.bits, graph.nodes[0].pixels)
    out = {}
    for i, node in enumerate(graph.nodes):
        if i == 0:
            continue
        t_in = graph.in_type(i)
        if isinstance(node, Flatten):
            link = Link(node.out.shape, link.element_bits, link.per_beat * link.channels)
        elif isinstance(node, Conv | JetConv):
            f = out[node.name] = choose(i, node, t_in, link)
            link = Link(node.out.shape, 1, f["windows"])
        elif isinstance(node, Dense):
            out[node.name] = choose(i, node, t_in, link)
            link = Link(node.out.shape, 1, node.out.shape[0])
        elif isinstance(node, MaxPool):
            _, window, _ = window_stages("pool", node, link, None, node.kernel)
            link = Link(node.out.shape, 1, window.windows)
    return out


def _conv_cycles(node, link, windows):
    """``cycles(per_vector)`` of a window layer at ``windows`` per cycle, or None if its window
    generator cannot take them."""
    try:
        _, window, _ = window_stages("conv", node, link, windows, node.kernel)
    except BitfoldError:
        return None
    return lambda per_vector: conv_cycles(window.steps, window.ends, per_vector)


def fastest(graph: Graph) -> int:
    """The least target the design can reach: the input at its widest beat, every layer fully
    parallel at its most windows per cycle."""
    best = [input_layout_beats(graph, max(input_pixels(graph)))]
    g = _with_input(graph, max(input_pixels(graph)))

    def choose(i, node, t_in, link):
        o, k = node.weights.shape[0], node.fan_in
        if isinstance(node, Dense):
            best.append(1)
            return {"pe": o, "simd": k, "windows": 1}
        cycles = [(c(1), m) for m in divisors(node.out.shape[2]) if (c := _conv_cycles(node, link, m))]
        c, m = min(cycles)
        best.append(c)
        return {"pe": o, "simd": k, "windows": m}

    _walk(g, choose)
    return max(best)


def input_layout_beats(graph, pixels) -> int:
    """Beats per image of the input stream at ``pixels`` per beat."""
    shape = graph.nodes[0].out.shape
    n = shape[1] * shape[2] if len(shape) == 3 else shape[0]
    return n // pixels


def _with_input(graph, pixels):
    return graph.replace([graph.nodes[0].replace(pixels=pixels)] + list(graph.nodes[1:]))


def auto_folding(graph: Graph, target_cycles: int) -> dict:
    """The cheapest folding that meets ``target_cycles`` per image: the input's pixels per beat
    (the fewest that keep up), then layer by layer the fewest windows per cycle that can keep up
    and the cheapest PE x SIMD at them. Returns ``{"input": {"pixels"}, layer: {"pe", "simd",
    "mode", "windows"}}``."""
    if isinstance(target_cycles, bool) or not isinstance(target_cycles, int) or target_cycles < 1:
        raise BitfoldError(f"target cycles must be a positive integer, not {target_cycles!r}")
    pixels = [p for p in input_pixels(graph) if input_layout_beats(graph, p) <= target_cycles]
    if not pixels:
        widest = input_layout_beats(graph, max(input_pixels(graph)))
        raise BitfoldError(f"target of {target_cycles} cycles per image cannot be met: the input alone "
                           f"streams {widest} beats per image at its widest; use --target-cycles {widest} or more")
    g = _with_input(graph, pixels[0])

    def choose(i, node, t_in, link):
        o, k = node.weights.shape[0], node.fan_in
        simds = [k] if isinstance(node, JetConv) else divisors(k)
        if isinstance(node, Dense):
            options = [(1, int)]
        else:
            options = [(m, c) for m in divisors(node.out.shape[2]) if (c := _conv_cycles(node, link, m))]
        least = None
        for m, cycles in options:  # the fewest windows per cycle that can keep up
            fastest_here = cycles(1)
            least = fastest_here if least is None else min(least, fastest_here)
            if fastest_here > target_cycles:
                continue
            best = None
            for pe in divisors(o):
                for simd in simds:
                    if cycles((o // pe) * (k // simd)) > target_cycles:
                        continue
                    key = (m * fold_cost(node, t_in, pe, simd), -simd)
                    if best is None or key < best[0]:
                        best = (key, pe, simd)
            _, pe, simd = best
            return {"pe": pe, "simd": simd, "mode": str(default_mode(node, pe, simd)), "windows": m}
        raise BitfoldError(f"layer {node.name}: even fully parallel it needs {least} cycles per image, more "
                           f"than the target of {target_cycles}; use --target-cycles {least} or more")

    return {INPUT: {"pixels": pixels[0]}} | _walk(g, choose)
