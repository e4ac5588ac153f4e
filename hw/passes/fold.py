"""Folding: PE and SIMD and the weight mode of every binary layer, annotated on the IR.

``apply_folding(graph, folding)`` checks a folding against the layers and annotates each
Dense/Conv/JetConv node with its :class:`~hw.ir.graph.Folding`. Where a folding comes from: a user
file (:func:`read_fold_file`), every layer fully parallel (:func:`parallel_folding`), or the
cheapest that meets a target of cycles per image (:func:`hw.plan.fold.auto_folding`, which needs
the hardware's timing). The weight mode defaults to ``constant`` for a fully unrolled layer (one
cycle per vector: XNOR with a constant is free) and ``memory`` otherwise.
"""

import json
from pathlib import Path

from ..errors import BitfoldError
from ..ir.graph import Conv, Dense, Folding, Graph, JetConv, WeightMode

__all__ = ["apply_folding", "parallel_folding", "unroll", "read_fold_file", "as_folding", "layer_names",
           "divisors", "default_mode", "LAYERS"]

LAYERS = (Dense, Conv, JetConv)


def divisors(n: int):
    return [d for d in range(1, n + 1) if n % d == 0]


def layer_names(graph):
    return [n.name for n in graph.nodes if isinstance(n, LAYERS)]


def default_mode(node, pe, simd) -> WeightMode:
    if isinstance(node, JetConv):
        return WeightMode.CONSTANT  # jet coefficients are always hard-wired
    full = pe == node.weights.shape[0] and simd == node.fan_in
    return WeightMode.CONSTANT if full else WeightMode.MEMORY


def as_folding(node, spec) -> Folding:
    """One layer's folding from a :class:`Folding` or a ``{"pe", "simd", "mode"?}`` dict, checked
    against the layer: PE divides its outputs, SIMD its inputs; a jet layer reads all its jets at
    once and keeps its coefficients hard-wired."""
    o, k = node.weights.shape[0], node.fan_in
    if isinstance(spec, Folding):
        pe, simd, mode = spec.pe, spec.simd, spec.mode
    else:
        pe, simd, mode = spec.get("pe"), spec.get("simd", k if isinstance(node, JetConv) else None), spec.get("mode")
    for what, v in (("PE", pe), ("SIMD", simd)):
        if isinstance(v, bool) or not isinstance(v, int):
            raise BitfoldError(f"layer {node.name}: {what} must be an integer, not {v!r}")
    if isinstance(node, JetConv) and simd != k:
        raise BitfoldError(f"layer {node.name}: a jet layer reads all its {k} jets at once; give SIMD={k} "
                           "or leave it out")
    if pe not in divisors(o):
        raise BitfoldError(f"layer {node.name}: PE={pe} does not divide its {o} outputs; "
                           f"valid PE: {', '.join(map(str, divisors(o)))}")
    if simd not in divisors(k):
        raise BitfoldError(f"layer {node.name}: SIMD={simd} does not divide its {k} inputs; "
                           f"valid SIMD: {', '.join(map(str, divisors(k)))}")
    mode = mode or default_mode(node, pe, simd)
    if mode not in tuple(WeightMode):
        raise BitfoldError(f"layer {node.name}: weight mode must be 'memory' or 'constant', not {mode!r}")
    if isinstance(node, JetConv) and mode != WeightMode.CONSTANT:
        raise BitfoldError(f"layer {node.name}: a jet layer's coefficients are hard-wired (mode constant)")
    return Folding(pe, simd, WeightMode(mode))


def apply_folding(graph: Graph, folding: dict) -> Graph:
    """Annotate layers with ``folding = {layer: Folding or {"pe": P, "simd": S, "mode": M?}}``."""
    names = layer_names(graph)
    unknown = sorted(set(folding) - set(names))
    if unknown:
        raise BitfoldError(f"folding names unknown layers {', '.join(unknown)}; layers: {', '.join(names)}")
    missing = [n for n in names if n not in folding]
    if missing:
        raise BitfoldError(f"folding gives no PE/SIMD for layers {', '.join(missing)}")
    return graph.replace([n.replace(folding=as_folding(n, folding[n.name])) if isinstance(n, LAYERS) else n
                          for n in graph.nodes])


def parallel_folding(graph: Graph) -> dict:
    """Every layer fully unrolled (PE = outputs, SIMD = inputs), weights hard-wired: one vector per
    cycle; for small layers, where the logic is affordable."""
    return {n.name: {"pe": int(n.weights.shape[0]), "simd": n.fan_in, "mode": str(WeightMode.CONSTANT)}
            for n in graph.nodes if isinstance(n, LAYERS)}


def unroll(folding: dict, graph: Graph, names) -> dict:
    """``folding`` with the layers ``names`` fully unrolled and hard-wired (one vector per cycle)."""
    full = parallel_folding(graph)
    return folding | {n: full[n] for n in names}


def read_fold_file(path) -> dict:
    """Read a fold.json: ``{"layer": {"pe": P, "simd": S, "mode": "memory" | "constant"}, ...}``
    (or the same under a ``"layers"`` key). Types and keys are checked here; whether the numbers
    fit the layers, when the folding is applied."""
    path = Path(path)
    try:
        d = json.loads(path.read_text())
    except FileNotFoundError:
        raise BitfoldError(f"{path}: no such folding file") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BitfoldError(f"{path}: not valid JSON ({e})") from None
    except OSError as e:
        raise BitfoldError(f"{path}: cannot be read ({e.strerror})") from None
    d = d.get("layers", d) if isinstance(d, dict) else d
    if not isinstance(d, dict) or not all(isinstance(v, dict) for v in d.values()):
        raise BitfoldError(f'{path}: expected {{"layer name": {{"pe": P, "simd": S, "mode": M}}, ...}}')
    for name, spec in d.items():
        extra = set(spec) - {"pe", "simd", "mode"}
        if extra:
            raise BitfoldError(f"{path}: layer {name}: unknown keys {', '.join(sorted(extra))} "
                               "(expected pe, simd, mode)")
        for key in ("pe", "simd"):
            v = spec.get(key)
            if key in spec and (isinstance(v, bool) or not isinstance(v, int)):
                raise BitfoldError(f"{path}: layer {name}: {key} must be an integer, not {v!r}")
        if "mode" in spec and spec["mode"] not in tuple(WeightMode):
            raise BitfoldError(f"{path}: layer {name}: mode must be 'memory' or 'constant', not {spec['mode']!r}")
    return d
