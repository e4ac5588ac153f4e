"""Folding: PE and SIMD and the weight mode of every binary layer, windows per cycle of every
convolution, and pixels per beat of the input stream, annotated on the IR.

``apply_folding(graph, folding)`` checks a folding against the layers and annotates each
Dense/Conv/JetConv node with its :class:`~hw.ir.graph.Folding` and the input :class:`Quantize`
with its pixels per beat (the folding's reserved entry ``"input": {"pixels": P}``). Where a folding comes from: a user
file (:func:`read_fold_file`), every layer fully parallel (:func:`parallel_folding`), or the
cheapest that meets a target of cycles per image (:func:`hw.plan.fold.auto_folding`, which needs
the hardware's timing). The weight mode defaults to ``constant`` for a fully unrolled layer (one
cycle per vector: XNOR with a constant is free) and ``memory`` otherwise.
"""

import json
from pathlib import Path

from ..errors import BitfoldError
from ..ir.graph import Conv, Dense, Flatten, Folding, Graph, JetConv, WeightMode

__all__ = ["apply_folding", "parallel_folding", "unroll", "read_fold_file", "as_folding", "layer_names",
           "divisors", "default_mode", "input_pixels", "LAYERS", "INPUT"]

LAYERS = (Dense, Conv, JetConv)
INPUT = "input"  # the folding's entry for the input stream: {"pixels": P}


def divisors(n: int):
    return [d for d in range(1, n + 1) if n % d == 0]


def layer_names(graph):
    return [n.name for n in graph.nodes if isinstance(n, LAYERS)]


def default_mode(node, pe, simd) -> WeightMode:
    if isinstance(node, JetConv):
        return WeightMode.CONSTANT  # jet coefficients are always hard-wired
    full = pe == node.weights.shape[0] and simd == node.fan_in
    return WeightMode.CONSTANT if full else WeightMode.MEMORY


def input_pixels(graph) -> list:
    """The valid pixels per beat of the input stream: divisors of the image width when a window
    walks the image; when the image is flattened at once (a dense first layer), divisors of its
    pixel count, up to the whole image per beat; divisors of the length of a vector input."""
    shape = graph.nodes[0].out.shape
    if len(shape) == 1:
        return divisors(shape[0])
    flat = len(graph.nodes) > 1 and isinstance(graph.nodes[1], Flatten)
    return divisors(shape[1] * shape[2] if flat else shape[2])


def as_folding(node, spec) -> Folding:
    """One layer's folding from a :class:`Folding` or a ``{"pe", "simd", "mode"?, "windows"?}``
    dict, checked against the layer: PE divides its outputs, SIMD its inputs, windows (output
    positions at once, convolutions only) its output width; a jet layer reads all its jets at once
    and keeps its coefficients hard-wired."""
    o, k = node.weights.shape[0], node.fan_in
    if isinstance(spec, Folding):
        pe, simd, mode, windows = spec.pe, spec.simd, spec.mode, spec.windows
    else:
        pe, simd, mode = spec.get("pe"), spec.get("simd", k if isinstance(node, JetConv) else None), spec.get("mode")
        windows = spec.get("windows", 1)
    for what, v in (("PE", pe), ("SIMD", simd), ("windows", windows)):
        if isinstance(v, bool) or not isinstance(v, int):
            raise BitfoldError(f"layer {node.name}: {what} must be an integer, not {v!r}")
    width = node.out.shape[2] if isinstance(node, Conv | JetConv) else 1
    if windows not in divisors(width):
        raise BitfoldError(f"layer {node.name}: {windows} windows per cycle do not divide its output width {width}; "
                           f"valid: {', '.join(map(str, divisors(width)))}")
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
    return Folding(pe, simd, WeightMode(mode), windows)


def apply_folding(graph: Graph, folding: dict) -> Graph:
    """Annotate layers with ``folding = {layer: Folding or {"pe", "simd", "mode"?, "windows"?}}`` and
    the input with ``folding["input"] = {"pixels": P}`` (default 1)."""
    names = layer_names(graph)
    if INPUT in names:
        raise BitfoldError(f"a layer is named {INPUT!r}, which a folding reserves for the input stream; "
                           "rename the layer")
    unknown = sorted(set(folding) - set(names) - {INPUT})
    if unknown:
        raise BitfoldError(f"folding names unknown layers {', '.join(unknown)}; layers: {', '.join(names)}")
    missing = [n for n in names if n not in folding]
    if missing:
        raise BitfoldError(f"folding gives no PE/SIMD for layers {', '.join(missing)}")
    pixels = folding.get(INPUT, {}).get("pixels", 1)
    valid = input_pixels(graph)
    if isinstance(pixels, bool) or not isinstance(pixels, int) or pixels not in valid:
        raise BitfoldError(f"input: {pixels!r} pixels per beat do not divide the input's width; valid: "
                           f"{', '.join(map(str, valid))}")
    first = graph.nodes[0].replace(pixels=pixels)
    return graph.replace([first] + [n.replace(folding=as_folding(n, folding[n.name])) if isinstance(n, LAYERS)
                                    else n for n in graph.nodes[1:]])


def parallel_folding(graph: Graph) -> dict:
    """Every layer fully unrolled (PE = outputs, SIMD = inputs), weights hard-wired: one vector per
    cycle; for small layers, where the logic is affordable."""
    return {n.name: {"pe": int(n.weights.shape[0]), "simd": n.fan_in, "mode": str(WeightMode.CONSTANT)}
            for n in graph.nodes if isinstance(n, LAYERS)}


def unroll(folding: dict, graph: Graph, names) -> dict:
    """``folding`` with the layers ``names`` fully unrolled and hard-wired (one vector per cycle),
    keeping their windows per cycle."""
    full = parallel_folding(graph)
    return folding | {n: full[n] | {"windows": folding.get(n, {}).get("windows", 1)} for n in names}


def read_fold_file(path) -> dict:
    """Read a fold.json: ``{"input": {"pixels": P}, "layer": {"pe": P, "simd": S, "mode": "memory" |
    "constant", "windows": M}, ...}`` (or the same under a ``"layers"`` key; every entry but a
    layer's PE and SIMD is optional). Types and keys are checked here; whether the numbers fit the
    layers, when the folding is applied."""
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
        if name == INPUT:
            if set(spec) != {"pixels"}:
                raise BitfoldError(f'{path}: the input entry holds only "pixels", not {", ".join(sorted(spec))}')
            continue
        extra = set(spec) - {"pe", "simd", "mode", "windows"}
        if extra:
            raise BitfoldError(f"{path}: layer {name}: unknown keys {', '.join(sorted(extra))} "
                               "(expected pe, simd, mode, windows)")
        for key in ("pe", "simd", "windows"):
            v = spec.get(key)
            if key in spec and (isinstance(v, bool) or not isinstance(v, int)):
                raise BitfoldError(f"{path}: layer {name}: {key} must be an integer, not {v!r}")
        if "mode" in spec and spec["mode"] not in tuple(WeightMode):
            raise BitfoldError(f"{path}: layer {name}: mode must be 'memory' or 'constant', not {spec['mode']!r}")
    return d
