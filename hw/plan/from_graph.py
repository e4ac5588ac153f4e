"""The one place that decides what hardware an IR graph becomes: a folded IR graph -> its :class:`Plan`.

==========================  ==============================================================
IR                          hardware (unit plans)
==========================  ==============================================================
Quantize                    the top-level input stream (codes come from the host)
Flatten                     :class:`GatherPlan` of the pixel beats into one vector (HWC order)
Conv + Threshold            :class:`WindowPlan` -> :class:`MVTUPlan` (or :class:`MSTPlan`)
JetConv + Threshold         :class:`WindowPlan` -> :class:`JetPlan`
Dense + Threshold|Scores    :class:`MVTUPlan` (or :class:`MSTPlan`)
MaxPool                     :class:`WindowPlan` -> :class:`OrPoolPlan`
Scores (the end)            :class:`ArgMaxPlan`: class + scores, one beat per image
==========================  ==============================================================

A scheduled binary layer (MST) is built as an :class:`MSTPlan` when it is fully parallel with
hard-wired weights; elsewhere a channel's XNORs are not logic of its own, so the schedule saves
nothing and the plain unit is built (the layer's ``note`` says so).

A queue follows every layer (:class:`QueueKind`): with ``image`` a FIFO deep enough for one image
of that layer's output when it has more than two beats, else a skid buffer; with ``skid`` only a
two-entry skid buffer; with ``none`` nothing. Either cuts the ready path between layers; a
gatherer's output register decouples already.
"""

import numpy as np

from ..errors import BitfoldError
from ..ir.graph import Conv, Dense, Flatten, Graph, JetConv, Kind, MaxPool, Quantize, Scores, Threshold, WeightMode
from .design import LayerPlan, Plan, Stage
from .jet import JetPlan
from .layout import input_layout, output_layout
from .mst import MSTPlan
from .mvtu import MVTUPlan
from .outputs import ScoreOut, ThresholdOut, hw_thresholds
from .stream import ArgMaxPlan, FifoPlan, GatherPlan, OrPoolPlan, QueueKind, SkidPlan
from .window import WindowPlan

__all__ = ["plan_graph", "hw_weights", "builds_mst", "MST_UNUSED"]

MST_UNUSED = ("MST schedule not used: the layer is folded or keeps its weights in memory, where computing a "
              "channel from its parent saves nothing; the plain unit is built")


def hw_weights(node) -> np.ndarray:
    """Weight bits ``(O, K)`` with columns in the order the hardware streams elements: a window is
    read pixel by pixel with the channels of each pixel together, (KH, KW, C), where the IR keeps
    ONNX's (C, KH, KW)."""
    w = node.weights
    if isinstance(node, Conv):
        return np.ascontiguousarray(w.transpose(0, 2, 3, 1).reshape(w.shape[0], -1))
    return w


def builds_mst(node, follow) -> bool:
    """Is this scheduled binary layer built as an MST unit? Only fully parallel with hard-wired
    weights and a threshold after it."""
    f = node.folding
    return (getattr(node, "schedule", None) is not None and f is not None and f.mode == WeightMode.CONSTANT
            and f.pe == node.weights.shape[0] and f.simd == node.fan_in and isinstance(follow, Threshold))


def plan_graph(graph: Graph, queues=QueueKind.IMAGE) -> Plan:
    """The hardware plan of a folded IR graph (after :data:`hw.passes.PIPELINE`)."""
    if queues not in tuple(QueueKind):
        raise BitfoldError(f"queue kind must be {', '.join(repr(str(q)) for q in QueueKind)}, not {queues!r}")
    queues = QueueKind(queues)
    nodes = graph.nodes
    if not nodes or not isinstance(nodes[0], Quantize):
        raise BitfoldError("a hardware plan needs a graph that starts with its input Quantize")
    if not isinstance(nodes[-1], Scores):
        raise BitfoldError("a hardware plan needs a graph that ends in integer scores (run streamlining)")
    layers = []

    def add(name, op, compute, beats=1, note=None, source=None):
        width = compute[-1].unit.o_width
        queue = None
        if queues == QueueKind.IMAGE and beats > 2:
            queue = Stage(f"{compute[-1].name}_fifo", FifoPlan(width, beats + 1))
        elif queues != QueueKind.NONE and op != "Flatten":  # a gatherer's output register decouples already
            queue = Stage(f"{compute[-1].name}_skid", SkidPlan(width))
        layers.append(LayerPlan(name, op, tuple(compute), queue, note, source))

    t = nodes[0].out
    i = 1
    while i < len(nodes):
        node = nodes[i]
        follow = nodes[i + 1] if i + 1 < len(nodes) else None
        name = _ident(node.name)
        if isinstance(node, Flatten):
            eb = 1 if t.kind == Kind.BITS else t.bits
            if len(t.shape) == 3:
                c, h, w = t.shape
                beats, width = h * w, c * eb
            else:
                beats, width = t.shape[0], eb
            if node.order != "hwc" and len(t.shape) == 3 and t.shape[0] > 1:
                raise BitfoldError(f"IR node {node.name}: run the to_hwc pass before planning hardware (CHW flatten)")
            add(node.name, "Flatten", [Stage(name, GatherPlan(width, beats))], source=node)
            t = node.out
            i += 1
        elif isinstance(node, JetConv):
            if not isinstance(follow, Threshold):
                raise BitfoldError(f"IR node {node.name}: a jet layer must be followed by a threshold to be built")
            _need_folding(node)
            unit = JetPlan(node.name, node.coeffs, node.folding.pe,
                           ThresholdOut(follow.thresholds, follow.directions),
                           in_bits=0 if t.kind == Kind.BITS else t.bits, in_signed=t.lo < 0)
            add(node.name, "JetConv", [Stage(f"{name}_swg", _window(node, t, (3, 3))), Stage(f"{name}_jets", unit)],
                _beats(follow.out), source=node)
            t = follow.out
            i += 2
        elif isinstance(node, Conv | Dense):
            if not isinstance(follow, Threshold | Scores):
                raise BitfoldError(f"IR node {node.name}: a {node.op} must be followed by a threshold or the "
                                   f"scores to be built (found {follow.op if follow else 'nothing'}); "
                                   "streamline the graph first")
            compute = []
            if isinstance(node, Conv):
                if isinstance(follow, Scores):
                    raise BitfoldError(f"IR node {node.name}: a convolution as the last layer is not supported; "
                                       "end the network with a dense layer")
                compute.append(Stage(f"{name}_swg", _window(node, t, node.kernel)))
            elif len(t.shape) != 1:
                raise BitfoldError(f"IR node {node.name}: a dense layer needs a flattened input, got {t.shape}")
            _need_folding(node)
            note = None
            if builds_mst(node, follow):
                t_hw = hw_thresholds(follow.thresholds, follow.directions, node.fan_in, True)
                compute.append(Stage(f"{name}_mst", MSTPlan(node.name, hw_weights(node), node.schedule,
                                                            ThresholdOut(t_hw, follow.directions))))
            else:
                note = MST_UNUSED if node.schedule is not None else None
                compute.append(Stage(f"{name}_mvtu", _mvtu(node, follow, t)))
            add(node.name, node.op, compute, _beats(follow.out), note, source=node)
            t = follow.out
            i += 2
            if isinstance(follow, Scores):
                add("argmax", "ArgMax", [Stage("argmax", ArgMaxPlan(follow.out.shape[0], follow.out.bits))])
        elif isinstance(node, MaxPool):
            c, h, w = t.shape
            kh, kw = node.kernel
            window = WindowPlan(node.name, c, 1, h, w, node.kernel, node.stride)
            add(node.name, "MaxPool", [Stage(f"{name}_swg", window), Stage(f"{name}_or", OrPoolPlan(kh * kw, c))],
                _beats(node.out), source=node)
            t = node.out
            i += 1
        else:
            raise BitfoldError(f"IR node {node.name} ({node.op}) has no hardware; supported: Quantize, Flatten, "
                               "Conv/Dense + Threshold or Scores, JetConv + Threshold, MaxPool")
    return Plan(tuple(layers), input_layout(graph), output_layout(graph), queues)


def _need_folding(node):
    if node.folding is None:
        raise BitfoldError(f"IR node {node.name}: no folding; run the fold pass before planning hardware")


def _window(node, t, kernel):
    c, h, w = t.shape
    eb = 1 if t.kind == Kind.BITS else t.bits
    return WindowPlan(node.name, c, eb, h, w, kernel, node.stride, node.pads, node.pad_value)


def _mvtu(node, follow, t_in):
    f = node.folding
    binary = t_in.kind == Kind.BITS
    if isinstance(follow, Threshold):
        output = ThresholdOut(hw_thresholds(follow.thresholds, follow.directions, node.fan_in, binary),
                              follow.directions)
    else:
        output = ScoreOut(follow.sign, follow.bias, follow.out.bits)
    return MVTUPlan(node.name, hw_weights(node), f.pe, f.simd, output, in_bits=0 if binary else t_in.bits,
                    in_signed=t_in.lo < 0, mode=f.mode)


def _beats(t):
    """Beats per image on a layer's output stream: its pixels, or one vector."""
    return t.shape[1] * t.shape[2] if len(t.shape) == 3 else 1


def _ident(name):
    """A Verilog-friendly instance name."""
    return "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name).lower()
