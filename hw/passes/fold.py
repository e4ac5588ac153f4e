"""Folding: PE and SIMD and the weight mode of every binary layer, from a user file or automatic.

``apply_folding(graph, folding)`` annotates each Dense/Conv node with a :class:`Folding`;
``auto_folding(graph, target_cycles)`` chooses one: for each layer, the cheapest PE x SIMD whose
``vectors x (O/PE) x (K/SIMD)`` meets the target, so the pipeline is balanced at the least area.
The weight mode defaults to ``constant`` for a fully unrolled layer (one cycle per vector: XNOR
with a constant is free) and ``memory`` otherwise.
"""

import functools
import json
from pathlib import Path

from ..errors import BitfoldError
from ..ir.graph import Conv, Dense, Folding, Graph, JetConv
from ..rtl.mvtu import divisors

__all__ = ["apply_folding", "auto_folding", "parallel_folding", "unroll", "read_fold_file", "layer_names", "fold_cost"]


LAYERS = (Dense, Conv, JetConv)


def layer_names(graph):
    return [n.name for n in graph.nodes if isinstance(n, LAYERS)]


def _default_mode(node, pe, simd):
    if isinstance(node, JetConv):
        return "constant"  # jet coefficients are always hard-wired
    return "constant" if pe == node.weights.shape[0] and simd == node.fan_in else "memory"


def apply_folding(graph: Graph, folding: dict) -> Graph:
    """Annotate layers with ``folding = {layer: {"pe": P, "simd": S, "mode": M?}}``."""
    names = layer_names(graph)
    unknown = sorted(set(folding) - set(names))
    if unknown:
        raise BitfoldError(f"folding names unknown layers {', '.join(unknown)}; layers: {', '.join(names)}")
    missing = [n for n in names if n not in folding]
    if missing:
        raise BitfoldError(f"folding gives no PE/SIMD for layers {', '.join(missing)}")
    nodes = []
    for node in graph.nodes:
        if isinstance(node, LAYERS):
            spec = folding[node.name]
            o, k = node.weights.shape[0], node.fan_in
            pe, simd = spec.get("pe"), spec.get("simd", k if isinstance(node, JetConv) else None)
            for key, v in (("pe", pe), ("simd", simd)):
                if v is not None and (not isinstance(v, int) or isinstance(v, bool)):
                    raise BitfoldError(f"layer {node.name}: {key} must be an integer, not {type(v).__name__} {v!r}")
            if isinstance(node, JetConv) and simd != k:
                raise BitfoldError(f"layer {node.name}: a jet layer reads all its {k} jets at once; give SIMD={k} "
                                   "or leave it out")
            if pe not in divisors(o):
                raise BitfoldError(f"layer {node.name}: PE={pe} does not divide its {o} outputs; "
                                   f"valid PE: {', '.join(map(str, divisors(o)))}")
            if simd not in divisors(k):
                raise BitfoldError(f"layer {node.name}: SIMD={simd} does not divide its {k} inputs; "
                                   f"valid SIMD: {', '.join(map(str, divisors(k)))}")
            mode = spec.get("mode") or _default_mode(node, pe, simd)
            if isinstance(node, JetConv) and mode != "constant":
                raise BitfoldError(f"layer {node.name}: a jet layer's coefficients are hard-wired (mode constant)")
            if mode not in ("memory", "constant"):
                raise BitfoldError(f"layer {node.name}: weight mode must be 'memory' or 'constant', not {mode!r}")
            node = node.replace(folding=Folding(pe, simd, mode))
        nodes.append(node)
    return graph.replace(nodes)


def fold_cost(node, t_in, pe, simd):
    """Relative area of a folding: PE x SIMD terms, PE accumulators, the rotating input register."""
    term = 1 if t_in.kind == "bits" else t_in.bits + 1
    acc = max(1, (node.fan_in * max(1, abs(t_in.lo), abs(t_in.hi))).bit_length() + 1)
    rotate = 0 if simd == node.fan_in else node.fan_in * (1 if t_in.kind == "bits" else t_in.bits)
    return pe * simd * term + pe * acc * 2 + rotate


def auto_folding(graph: Graph, target_cycles: int) -> dict:
    """The cheapest folding of every layer that meets ``target_cycles`` per image."""
    from ..analysis import conv_cycles, input_beats, window_steps

    if not isinstance(target_cycles, int) or target_cycles < 1:
        raise BitfoldError(f"target cycles must be a positive integer, not {target_cycles!r}")
    floor = input_beats(graph)
    if floor > target_cycles:
        raise BitfoldError(f"target of {target_cycles} cycles per image cannot be met: the input alone "
                           f"streams {floor} beats per image; use --target-cycles {floor} or more")
    folding = {}
    for i, node in enumerate(graph.nodes):
        if not isinstance(node, LAYERS):
            continue
        t_in = graph.in_type(i)
        o, k = node.weights.shape[0], node.fan_in
        if isinstance(node, Conv | JetConv):
            cycles = functools.partial(conv_cycles, *window_steps(t_in.shape, node.kernel, node.stride, node.pads))
        else:
            cycles = int
        fastest = cycles(1)
        if fastest > target_cycles:
            raise BitfoldError(f"layer {node.name}: even fully parallel it needs {fastest} cycles per image, more "
                               f"than the target of {target_cycles}; use --target-cycles {fastest} or more")
        best = None
        for pe in divisors(o):
            for simd in ([k] if isinstance(node, JetConv) else divisors(k)):
                if cycles((o // pe) * (k // simd)) > target_cycles:
                    continue
                key = (fold_cost(node, t_in, pe, simd), -simd)
                if best is None or key < best[0]:
                    best = (key, pe, simd)
        _, pe, simd = best
        folding[node.name] = {"pe": pe, "simd": simd, "mode": _default_mode(node, pe, simd)}
    return folding


def parallel_folding(graph: Graph) -> dict:
    """Every layer fully unrolled (PE = outputs, SIMD = inputs), weights hard-wired: one vector per
    cycle; for small layers, where the logic is affordable."""
    return {n.name: {"pe": int(n.weights.shape[0]), "simd": n.fan_in, "mode": "constant"}
            for n in graph.nodes if isinstance(n, LAYERS)}


def unroll(folding: dict, graph: Graph, names) -> dict:
    """``folding`` with the layers ``names`` fully unrolled and hard-wired (one vector per cycle)."""
    full = parallel_folding(graph)
    return folding | {n: full[n] for n in names}


def read_fold_file(path) -> dict:
    """Read a fold.json: ``{"layer": {"pe": P, "simd": S, "mode": "memory" | "constant"}, ...}``."""
    path = Path(path)
    try:
        d = json.loads(path.read_text())
    except FileNotFoundError:
        raise BitfoldError(f"{path}: no such folding file") from None
    except json.JSONDecodeError as e:
        raise BitfoldError(f"{path}: not valid JSON ({e})") from None
    d = d.get("layers", d) if isinstance(d, dict) else d
    if not isinstance(d, dict) or not all(isinstance(v, dict) for v in d.values()):
        raise BitfoldError(f'{path}: expected {{"layer name": {{"pe": P, "simd": S, "mode": M}}, ...}}')
    for name, spec in d.items():
        extra = set(spec) - {"pe", "simd", "mode"}
        if extra:
            raise BitfoldError(f"{path}: layer {name}: unknown keys {', '.join(sorted(extra))} "
                               "(expected pe, simd, mode)")
    return d
