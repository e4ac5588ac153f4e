"""Lowering: a folded, sized IR graph -> the Amaranth components of its dataflow pipeline.

One function per IR pattern; no files are written here (that is :mod:`hw.emit`).

==========================  ==============================================================
IR                          hardware
==========================  ==============================================================
Quantize                    the top-level input stream (codes come from the host)
Flatten                     :class:`Gather` of the pixel beats into one vector (HWC order)
Conv + Threshold|Scores     :class:`SlidingWindow` -> :class:`MVTU`
Dense + Threshold|Scores    :class:`MVTU`
MaxPool                     :class:`SlidingWindow` -> :class:`OrReduce`
Scores (the end)            :class:`ArgMax`: class + scores, one beat per image
==========================  ==============================================================

A queue follows every layer: with ``fifo="image"`` (the default) a :class:`StreamFIFO` deep
enough for one image of that layer's output, so layers are decoupled and the pipeline runs at its
slowest layer's rate; with ``fifo="skid"`` only a two-entry :class:`SkidBuffer` (least area, but
neighbouring layers can then stall each other). Either cuts the ready path between layers.
"""

import warnings
from dataclasses import dataclass, field

import numpy as np

from .errors import BitfoldError
from .ir.graph import Conv, Dense, Flatten, Graph, JetConv, MaxPool, Quantize, Scores, Threshold
from .passes.pack_weights import hw_weights
from .rtl.argmax import ArgMax
from .rtl.dataflow import Dataflow
from .rtl.gather import Gather
from .rtl.jet_unit import JetUnit
from .rtl.mvtu import MVTU
from .rtl.or_reduce import OrReduce
from .rtl.skid import SkidBuffer
from .rtl.sliding_window import SlidingWindow
from .rtl.stream_fifo import StreamFIFO

__all__ = ["lower", "Lowered", "hw_thresholds"]

# A lowered design is often only measured (estimates, cycle models) and never elaborated.
warnings.filterwarnings("ignore", message=r".* created but never used")


@dataclass
class Lowered:
    """The top component and, per IR layer, the stages it became."""

    top: Dataflow
    layers: list = field(default_factory=list)  # dicts: name, op, stages, latency
    fifo: str = "image"


def hw_thresholds(node_thresholds, directions, k, binary):
    """IR thresholds (on ``dot = 2p - K`` for binary inputs) -> thresholds on the popcount ``p``.

    ``dot >= T`` iff ``p >= ceil((T + K) / 2)``; ``dot <= T`` iff ``p <= floor((T + K) / 2)``.
    Integer inputs keep their thresholds (the hardware accumulates the same signed sum).
    """
    t = np.asarray(node_thresholds, dtype=np.int64)
    if not binary:
        return t
    up = np.asarray(directions) > 0
    return np.where(up, -((-(t + k)) // 2), (t + k) // 2)


def lower(graph: Graph, fifo: str = "image") -> Lowered:
    nodes = graph.nodes
    if not isinstance(nodes[0], Quantize):
        raise BitfoldError("lowering needs a graph that starts with its input Quantize")
    stages, layers = [], []
    t = nodes[0].out
    i = 1

    if fifo not in ("image", "skid", "none"):
        raise BitfoldError(f"fifo must be 'image', 'skid' or 'none', not {fifo!r}")

    def add(layer, op, parts, beats=1):
        width = parts[-1][1].o.payload.shape().width
        if fifo == "image" and beats > 2:
            parts = parts + [(f"{parts[-1][0]}_fifo", StreamFIFO(width, beats + 1))]
        elif fifo != "none" and op != "Flatten":  # a gatherer's output register decouples already
            parts = parts + [(f"{parts[-1][0]}_skid", SkidBuffer(width))]
        stages.extend(parts)
        layers.append({"name": layer, "op": op, "stages": [n for n, _ in parts],
                       "latency": sum(getattr(c, "latency", 1) for _, c in parts)})

    while i < len(nodes):
        node = nodes[i]
        if isinstance(node, Flatten):
            eb = 1 if t.kind == "bits" else t.bits
            if len(t.shape) == 3:
                c, h, w = t.shape
                beats, width = h * w, c * eb
            else:
                beats, width = t.shape[0], eb
            if node.order != "hwc" and len(t.shape) == 3 and t.shape[0] > 1:
                raise BitfoldError(f"IR node {node.name}: run the to_hwc pass before lowering (CHW flatten)")
            add(node.name, "Flatten", [(_ident(node.name), Gather(width, beats))])
            t = node.out
            i += 1
        elif isinstance(node, JetConv):
            follow = nodes[i + 1] if i + 1 < len(nodes) else None
            if not isinstance(follow, Threshold):
                raise BitfoldError(f"IR node {node.name}: a jet layer must be followed by a threshold to be lowered")
            c, h, w = t.shape
            eb = 1 if t.kind == "bits" else t.bits
            name = _ident(node.name)
            unit = JetUnit(node.coeffs, node.folding.pe, in_bits=0 if t.kind == "bits" else t.bits,
                           in_signed=t.lo < 0, thresholds=follow.thresholds, directions=follow.directions,
                           name=node.name)
            add(node.name, "JetConv", [(f"{name}_swg", SlidingWindow(c, eb, h, w, (3, 3), node.stride, node.pads,
                                                                       node.pad_value, name=node.name)),
                                       (f"{name}_jets", unit)], _beats(follow.out))
            t = follow.out
            i += 2
        elif isinstance(node, Conv | Dense):
            follow = nodes[i + 1] if i + 1 < len(nodes) else None
            if not isinstance(follow, Threshold | Scores):
                raise BitfoldError(f"IR node {node.name}: a {node.op} must be followed by a threshold or the "
                                   f"scores to be lowered (found {follow.op if follow else 'nothing'}); "
                                   "streamline the graph first")
            parts = []
            name = _ident(node.name)
            if isinstance(node, Conv):
                if isinstance(follow, Scores):
                    raise BitfoldError(f"IR node {node.name}: a convolution as the last layer is not supported; "
                                       "end the network with a dense layer")
                c, h, w = t.shape
                eb = 1 if t.kind == "bits" else t.bits
                parts.append((f"{name}_swg", SlidingWindow(c, eb, h, w, node.kernel, node.stride, node.pads,
                                                           node.pad_value, name=node.name)))
            elif len(t.shape) != 1:
                raise BitfoldError(f"IR node {node.name}: a dense layer needs a flattened input, got {t.shape}")
            unit, note = _binary_unit(node, follow, t)
            parts.append((f"{name}_{'mvtu' if node.schedule is None or note else 'mst'}", unit))
            add(node.name, node.op, parts, _beats(follow.out))
            if note:
                layers[-1]["note"] = note
            t = follow.out
            i += 2
            if isinstance(follow, Scores):
                classes, width = follow.out.shape[0], follow.out.bits
                add("argmax", "ArgMax", [("argmax", ArgMax(classes, width))])
        elif isinstance(node, MaxPool):
            c, h, w = t.shape
            kh, kw = node.kernel
            parts = [(f"{_ident(node.name)}_swg", SlidingWindow(c, 1, h, w, node.kernel, node.stride, name=node.name)),
                     (f"{_ident(node.name)}_or", OrReduce(kh * kw, c))]
            add(node.name, "MaxPool", parts, _beats(node.out))
            t = node.out
            i += 1
        else:
            raise BitfoldError(f"IR node {node.name} ({node.op}) is not supported by the lowering; supported: "
                               "Quantize, Flatten, Conv/Dense + Threshold or Scores, MaxPool")
    if not isinstance(nodes[-1], Scores):
        raise BitfoldError("lowering needs a graph that ends in integer scores (run streamlining)")
    return Lowered(Dataflow(stages), layers, fifo)


def _binary_unit(node, follow, t_in):
    """The MST unit for a scheduled, fully parallel, hard-wired binary layer; else the MVTU (and,
    for a scheduled layer, why its schedule is not used)."""
    f = node.folding
    if node.schedule is None:
        return _mvtu(node, follow, t_in), None
    o, k = node.weights.shape[0], node.fan_in
    if not (f is not None and f.pe == o and f.simd == k and f.mode == "constant" and isinstance(follow, Threshold)):
        return _mvtu(node, follow, t_in), (
            "MST schedule not used: the layer is folded or keeps its weights in memory, where computing a "
            "channel from its parent saves nothing; the plain unit is built")
    from .rtl.mst_unit import MSTUnit

    t = hw_thresholds(follow.thresholds, follow.directions, k, True)
    return MSTUnit(hw_weights(node), node.schedule.parents, t, follow.directions, name=node.name), None


def _mvtu(node, follow, t_in):
    f = node.folding
    if f is None:
        raise BitfoldError(f"IR node {node.name}: no folding; run the fold pass before lowering")
    w = hw_weights(node)
    binary = t_in.kind == "bits"
    common = dict(pe=f.pe, simd=f.simd, in_bits=0 if binary else t_in.bits, in_signed=t_in.lo < 0,
                  mode=f.mode, name=node.name)
    if isinstance(follow, Threshold):
        t = hw_thresholds(follow.thresholds, follow.directions, node.fan_in, binary)
        return MVTU(w, thresholds=t, directions=follow.directions, **common)
    return MVTU(w, score_sign=follow.sign, score_bias=follow.bias, score_width=follow.out.bits, **common)


def _beats(t):
    """Beats per image on a layer's output stream: its pixels, or one vector."""
    return t.shape[1] * t.shape[2] if len(t.shape) == 3 else 1


def _ident(name):
    """A Verilog-friendly instance name."""
    return "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name).lower()
