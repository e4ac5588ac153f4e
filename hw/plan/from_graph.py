"""The one place that decides what hardware an IR graph becomes: a folded IR graph -> its :class:`Plan`.

==========================  ==============================================================
IR                          hardware (unit plans)
==========================  ==============================================================
Quantize                    the top-level input stream: ``pixels`` pixels per beat
Flatten                     nothing: pixel beats (HWC order) are chunks of the flat vector
Conv + Threshold            :class:`WindowPlan` -> :class:`MVTUPlan` (or :class:`MSTPlan`),
                            ``windows`` (M) windows per beat
JetConv + Threshold         :class:`WindowPlan` -> :class:`JetPlan`
Dense + Threshold|Scores    :class:`MVTUPlan` with ``simd``-element chunks per beat (or
                            :class:`MSTPlan`, whole vectors)
MaxPool                     :class:`WindowPlan` -> :class:`OrPoolPlan`
Scores (the end)            :class:`ArgMaxPlan`: class + scores, one beat per image
==========================  ==============================================================

Where a unit takes another beat width than its producer gives, a width converter goes between
(:class:`GatherPlan` narrow to wide, :class:`SplitPlan` wide to narrow). A window generator takes
the producer's pixels per beat when its constraints allow (:class:`WindowPlan`), else the largest
that they allow; pooling emits as many windows per beat as keep up with its input.

A scheduled binary layer (MST) is built as an :class:`MSTPlan` when it is fully parallel with
hard-wired weights; elsewhere a channel's XNORs are not logic of its own, so the schedule saves
nothing and the plain unit is built (the layer's ``note`` says so).

Queues (:class:`QueueKind`): the computing units (MVTU, MST, jet) end in an output queue of their
own (entries for every result in flight, so their datapaths never stall). With ``sized`` (the
default) each layer's queue holds, beyond that, the beats its schedule and its consumer's make wait
(:func:`hw.plan.queues.queue_needs`, plus a margin); pooling and the class unit get a FIFO that deep
(a skid buffer for two beats or fewer). With ``image`` every queue holds one image of its layer's
output; with ``skid`` pooling and the class unit get a skid buffer; with ``none`` nothing more.
Every queue cuts the ready path between layers.
"""

import numpy as np

from ..errors import BitfoldError
from ..ir.graph import Conv, Dense, Flatten, Graph, JetConv, Kind, MaxPool, Quantize, Scores, Threshold, WeightMode
from .design import LayerPlan, Plan, Stage
from .jet import JetPlan
from .layout import input_layout, output_layout
from .links import Link, resize, window_stages
from .mst import MSTPlan
from .mvtu import InputMode, MVTUPlan
from .outputs import ScoreOut, ThresholdOut, hw_thresholds
from .popcount import Popcount
from .queues import queue_needs
from .stream import ArgMaxPlan, FifoPlan, OrPoolPlan, QueueKind, SkidPlan

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


def plan_graph(graph: Graph, queues=QueueKind.SIZED, popcount: Popcount = Popcount()) -> Plan:
    """The hardware plan of a folded IR graph (after :data:`hw.passes.PIPELINE`); ``popcount``: how
    its binary units count bits."""
    if queues not in tuple(QueueKind):
        raise BitfoldError(f"queue kind must be {', '.join(repr(str(q)) for q in QueueKind)}, not {queues!r}")
    if not isinstance(popcount, Popcount):
        raise TypeError(f"popcount must be a Popcount, not {popcount!r}")
    queues = QueueKind(queues)
    if queues != QueueKind.SIZED:
        return _build(graph, queues, None, popcount)
    return _build(graph, queues, queue_needs(_build(graph, queues, {}, popcount)), popcount)


def _build(graph, queues, needs, popcount):
    """The plan with queues of ``queues`` kind; for ``sized``, ``needs`` gives per layer the beats
    that wait at its output (an empty dict: none known yet)."""
    nodes = graph.nodes
    if not nodes or not isinstance(nodes[0], Quantize):
        raise BitfoldError("a hardware plan needs a graph that starts with its input Quantize")
    if not isinstance(nodes[-1], Scores):
        raise BitfoldError("a hardware plan needs a graph that ends in integer scores (run streamlining)")
    layers = []
    t = nodes[0].out
    link = Link(t.shape, 1 if t.kind == Kind.BITS else t.bits, nodes[0].pixels)

    def add(name, op, compute, in_link, note=None, source=None):
        layer = LayerPlan(name, op, tuple(compute), None, note, source, in_link.beats)
        queue = None
        own = isinstance(layer.unit, MVTUPlan | MSTPlan | JetPlan | ArgMaxPlan)  # an output queue of its own
        if not own and queues != QueueKind.NONE:
            width, beats = layer.unit.o_width, layer.out_beats
            entries = beats if queues == QueueKind.IMAGE else _need(needs, name, 0)
            if queues in (QueueKind.IMAGE, QueueKind.SIZED) and entries > 2:
                queue = Stage(f"{compute[-1].name}_fifo", FifoPlan(width, entries + 1))
            else:
                queue = Stage(f"{compute[-1].name}_skid", SkidPlan(width))
        layers.append(LayerPlan(name, op, tuple(compute), queue, note, source, in_link.beats))

    def depth(name, beats):
        """Output queue entries of a computing unit beyond its credits: one image of its output, or
        the beats that wait for the next layer (None: its credits only)."""
        if queues == QueueKind.IMAGE:
            return beats if beats > 2 else None
        return _need(needs, name, None) if queues == QueueKind.SIZED else None

    i = 1
    while i < len(nodes):
        node = nodes[i]
        follow = nodes[i + 1] if i + 1 < len(nodes) else None
        name = _ident(node.name)
        if isinstance(node, Flatten):
            if node.order != "hwc" and len(link.shape) == 3 and link.shape[0] > 1:
                raise BitfoldError(f"IR node {node.name}: run the to_hwc pass before planning hardware (CHW flatten)")
            link = Link(node.out.shape, link.element_bits, link.per_beat * link.channels)  # pixels -> elements
            i += 1
        elif isinstance(node, JetConv | Conv):
            if isinstance(node, JetConv) and not isinstance(follow, Threshold):
                raise BitfoldError(f"IR node {node.name}: a jet layer must be followed by a threshold to be built")
            if not isinstance(follow, Threshold | Scores):
                raise BitfoldError(f"IR node {node.name}: a {node.op} must be followed by a threshold or the "
                                   f"scores to be built (found {follow.op if follow else 'nothing'}); "
                                   "streamline the graph first")
            if isinstance(follow, Scores):
                raise BitfoldError(f"IR node {node.name}: a convolution as the last layer is not supported; "
                                   "end the network with a dense layer")
            _need_folding(node)
            m = node.folding.windows
            out_link = Link(follow.out.shape, 1, m)
            compute, window, win_link = window_stages(name, node, link, m, node.kernel)
            note = None
            if isinstance(node, JetConv):
                unit = JetPlan(node.name, node.coeffs, node.folding.pe,
                               ThresholdOut(follow.thresholds, follow.directions),
                               in_bits=0 if t.kind == Kind.BITS else t.bits, in_signed=t.lo < 0, vectors=m,
                               out_depth=depth(node.name, out_link.beats))
                compute.append(Stage(f"{name}_jets", unit))
            elif builds_mst(node, follow):
                t_hw = hw_thresholds(follow.thresholds, follow.directions, node.fan_in, True)
                compute.append(Stage(f"{name}_mst", MSTPlan(node.name, hw_weights(node), node.schedule,
                                                            ThresholdOut(t_hw, follow.directions), vectors=m,
                                                            out_depth=depth(node.name, out_link.beats),
                                                            popcount=popcount)))
            else:
                note = MST_UNUSED if node.schedule is not None else None
                compute.append(Stage(f"{name}_mvtu", _mvtu(node, follow, t, m, InputMode.VECTOR,
                                                           depth(node.name, out_link.beats), popcount)))
            add(node.name, node.op, compute, link, note, source=node)
            link, t = out_link, follow.out
            i += 2
        elif isinstance(node, Dense):
            if not isinstance(follow, Threshold | Scores):
                raise BitfoldError(f"IR node {node.name}: a {node.op} must be followed by a threshold or the "
                                   f"scores to be built (found {follow.op if follow else 'nothing'}); "
                                   "streamline the graph first")
            if len(link.shape) != 1:
                raise BitfoldError(f"IR node {node.name}: a dense layer needs a flattened input, got {link.shape}")
            _need_folding(node)
            note = None
            if builds_mst(node, follow):
                compute = resize(name, link, node.fan_in)
                t_hw = hw_thresholds(follow.thresholds, follow.directions, node.fan_in, True)
                compute.append(Stage(f"{name}_mst", MSTPlan(node.name, hw_weights(node), node.schedule,
                                                            ThresholdOut(t_hw, follow.directions),
                                                            out_depth=depth(node.name, 1), popcount=popcount)))
            else:
                note = MST_UNUSED if node.schedule is not None else None
                compute = resize(name, link, node.folding.simd)
                compute.append(Stage(f"{name}_mvtu", _mvtu(node, follow, t, 1, InputMode.CHUNK,
                                                           depth(node.name, 1), popcount)))
            add(node.name, node.op, compute, link, note, source=node)
            link, t = Link(follow.out.shape, follow.out.bits if isinstance(follow, Scores) else 1,
                            follow.out.shape[0]), follow.out
            i += 2
            if isinstance(follow, Scores):
                add("argmax", "ArgMax", [Stage("argmax", ArgMaxPlan(follow.out.shape[0], follow.out.bits))], link)
        elif isinstance(node, MaxPool):
            c, _, _ = link.shape
            kh, kw = node.kernel
            compute, window, win_link = window_stages(name, node, link, None, node.kernel)
            compute.append(Stage(f"{name}_or", OrPoolPlan(kh * kw, c, window.windows)))
            add(node.name, "MaxPool", compute, link, source=node)
            link, t = Link(node.out.shape, 1, window.windows), node.out
            i += 1
        else:
            raise BitfoldError(f"IR node {node.name} ({node.op}) has no hardware; supported: Quantize, Flatten, "
                               "Conv/Dense + Threshold or Scores, JetConv + Threshold, MaxPool")
    return Plan(tuple(layers), input_layout(graph), output_layout(graph), queues, popcount)


MARGIN = 2  # queue entries beyond the schedule's need, for what the item-level model does not see


def _need(needs, name, default):
    """Queue entries a layer's output needs: the schedule's need plus a margin (``default`` when it
    is not known yet)."""
    if needs is None or name not in needs:
        return default
    return needs[name] + MARGIN


def _need_folding(node):
    if node.folding is None:
        raise BitfoldError(f"IR node {node.name}: no folding; run the fold pass before planning hardware")


def _mvtu(node, follow, t_in, vectors, input, out_depth, popcount):
    f = node.folding
    binary = t_in.kind == Kind.BITS
    if isinstance(follow, Threshold):
        output = ThresholdOut(hw_thresholds(follow.thresholds, follow.directions, node.fan_in, binary),
                              follow.directions)
    else:
        output = ScoreOut(follow.sign, follow.bias, follow.out.bits)
    return MVTUPlan(node.name, hw_weights(node), f.pe, f.simd, output, in_bits=0 if binary else t_in.bits,
                    in_signed=t_in.lo < 0, mode=f.mode, vectors=vectors, input=input, out_depth=out_depth,
                    popcount=popcount)


def _ident(name):
    """A Verilog-friendly instance name."""
    return "".join(ch if ch.isalnum() or ch == "_" else "_" for ch in name).lower()
