"""Analyses of a folded IR graph: functions that return dicts, never change the graph."""

import numpy as np

from .ir.graph import Conv, Dense, Flatten, Graph, JetConv, MaxPool, Quantize

__all__ = ["storage", "layer_cycles", "cycles_per_image", "input_beats", "binary_ops", "window_steps", "conv_cycles",
           "latency"]

FIFO_LATENCY = 2  # SyncFIFOBuffered: a write is readable two cycles later
SKID_LATENCY = 1


def input_beats(graph: Graph) -> int:
    """Beats per image on the input stream: one per pixel, or one per element of a vector."""
    shape = graph.nodes[0].out.shape
    return int(np.prod(shape[1:])) if len(shape) == 3 else int(shape[0])


def _padded(node, t_in):
    _, h, w = t_in.shape
    top, left, bottom, right = getattr(node, "pads", (0, 0, 0, 0))
    return (h + top + bottom) * (w + left + right)


def window_steps(in_shape, kernel, stride, pads):
    """The sliding window's walk over one padded image: ``(steps, [step index of each window])``.

    One step per padded pixel; a window is emitted at the step that reads its bottom-right pixel.
    """
    _, h, w = in_shape
    kh, kw = kernel
    sh, sw = stride
    t, l, b, r = pads
    hp, wp = h + t + b, w + l + r
    oh, ow = (hp - kh) // sh + 1, (wp - kw) // sw + 1
    ends = [(kh - 1 + i * sh) * wp + (kw - 1 + j * sw) for i in range(oh) for j in range(ow)]
    return hp * wp, ends


def conv_cycles(steps, ends, per_vector, images=4):
    """Steady-state cycles per image of a sliding window feeding an MVTU that needs
    ``per_vector`` cycles per window (input pixels always available).

    The window unit walks one step per cycle but holds a single finished window: it may walk on
    through steps that complete no window, yet window ``j + 1`` cannot be emitted before the MVTU
    has taken window ``j``. The MVTU takes a window ``per_vector`` cycles after the previous one,
    and at the earliest the cycle after it was emitted. So the MVTU idles where the walk between
    two windows is longer than ``per_vector`` steps: at row ends when the kernel is wider than
    ``per_vector``, and at each image's start (the first ``kh - 1`` rows). This recurrence over a
    few images gives the exact period.
    """
    emit, take, starts = -1, None, []
    prev_end = None
    for k in range(images):
        for j, e in enumerate(ends):
            pos = k * steps + e
            emit = pos if prev_end is None else max(take, emit + (pos - prev_end))
            take = emit + 1 if take is None else max(take + per_vector, emit + 1)
            prev_end = pos
            if j == 0:
                starts.append(take)
    return max(steps, starts[-1] - starts[-2]) if len(starts) > 1 else steps


def layer_cycles(graph: Graph) -> dict:
    """Cycles per image each stage needs at its folding (the slowest sets the pipeline's rate).

    Conv: the sliding window + MVTU recurrence of :func:`conv_cycles` (at least the padded
    pixels, at least windows x (O/PE) x (K/SIMD)); Dense: (O/PE) x (K/SIMD); MaxPool: padded
    pixels; Flatten: input beats; the input: its beats.
    """
    out = {"input": input_beats(graph)}
    for i, node in enumerate(graph.nodes):
        t_in = graph.in_type(i)
        if isinstance(node, Dense | Conv | JetConv):
            f = node.folding
            if f is None:
                continue
            o, k = node.weights.shape[0], node.fan_in
            per_vector = (o // f.pe) * (k // f.simd)
            if isinstance(node, Conv | JetConv):
                steps, ends = window_steps(t_in.shape, node.kernel, node.stride, node.pads)
                out[node.name] = conv_cycles(steps, ends, per_vector)
            else:
                out[node.name] = per_vector
        elif isinstance(node, MaxPool):
            out[node.name] = _padded(node, t_in)
        elif isinstance(node, Flatten) and len(t_in.shape) == 3 and not isinstance(graph.nodes[i - 1], Quantize):
            out[node.name] = int(np.prod(t_in.shape[1:]))
    return out


def cycles_per_image(graph: Graph) -> int:
    """The pipeline's initiation interval in cycles per image: its slowest stage."""
    return max(layer_cycles(graph).values())


def binary_ops(graph: Graph) -> dict:
    """Per layer: multiply-accumulates per image (XNORs for binary inputs, additions for k-bit)."""
    out = {}
    for n in graph.nodes:
        if isinstance(n, JetConv):  # jets once per channel (16 additions), then the chosen terms
            out[n.name] = int(n.vectors * (16 * n.coeffs.shape[1] + np.count_nonzero(n.coeffs)))
        elif isinstance(n, Dense | Conv):
            out[n.name] = int(n.vectors * n.weights.shape[0] * n.fan_in)
    return out


def _window_times(arrive, in_shape, kernel, stride, pads, per_vector, done_after):
    """Item-level timing of a sliding window + consumer for one image through an empty pipeline.

    ``arrive[p]``: cycle input pixel ``p`` (raster order) becomes available. The walk takes one
    step per cycle, waits for each input pixel, and emits window ``j`` only once window ``j - 1``
    was taken; the consumer takes a window every ``per_vector`` cycles and its result is ready
    ``done_after`` cycles after it took the window. Returns the ready cycle of each output.
    """
    _, h, w = in_shape
    kh, kw = kernel
    sh, sw = stride
    t, l, b, r = pads
    hp, wp = h + t + b, w + l + r
    ends = set(window_steps(in_shape, kernel, stride, pads)[1])
    time, take, out = -1, None, []
    for step in range(hp * wp):
        y, x = divmod(step, wp)
        inside = t <= y < t + h and l <= x < l + w
        time = max(time + 1, arrive[(y - t) * w + (x - l)] if inside else 0)
        if step in ends:
            if take is not None:
                time = max(time, take)
            take = time + 1 if take is None else max(take + per_vector, time + 1)
            out.append(take + done_after)
    return out


def latency(graph: Graph, fifo: str = "image") -> int:
    """Estimated cycles from the first input beat of an image to its result, through an empty
    pipeline without stalls (an item-level model of each stage; ``bitfold sim`` measures it)."""
    from .rtl.adder_tree import tree_latency

    t0 = graph.nodes[0].out
    arrive = list(range(input_beats(graph)))
    shape = t0.shape
    queue = FIFO_LATENCY if fifo == "image" else SKID_LATENCY
    nodes = graph.nodes
    for i, node in enumerate(nodes):
        if isinstance(node, JetConv):
            c = node.coeffs.shape[0] // node.folding.pe
            terms = max(1, int(np.count_nonzero(node.coeffs, axis=(1, 2)).max(initial=1)))
            done = c + 1 + tree_latency(terms, 2) + queue
            arrive = _window_times(arrive, shape, node.kernel, node.stride, node.pads, c, done)
            shape = node.out.shape
        elif isinstance(node, Conv):
            f = node.folding
            c = (node.weights.shape[0] // f.pe) * (node.fan_in // f.simd)
            done = c + 1 + tree_latency(f.simd, 2) + queue
            if _mst_built(node):
                done = 1 + tree_latency(f.simd, 2) + node.schedule.max_depth + 1 + queue
            arrive = _window_times(arrive, shape, node.kernel, node.stride, node.pads, c, done)
            shape = node.out.shape
        elif isinstance(node, MaxPool):
            arrive = _window_times(arrive, shape, node.kernel, node.stride, (0, 0, 0, 0), 1, 1 + queue)
            shape = node.out.shape
        elif isinstance(node, Flatten):
            arrive = [arrive[-1] + 1 + (0 if isinstance(nodes[i - 1], Quantize) else 0)]
            shape = node.out.shape
        elif isinstance(node, Dense):
            f = node.folding
            c = (node.weights.shape[0] // f.pe) * (node.fan_in // f.simd)
            extra = node.schedule.max_depth + 1 if _mst_built(node) else 0
            arrive = [arrive[-1] + c + 1 + tree_latency(f.simd, 2) + extra + SKID_LATENCY]
    return int(arrive[-1] + 1 + SKID_LATENCY)  # the argmax register and its queue


def _mst_built(node) -> bool:
    f = node.folding
    return (node.schedule is not None and f is not None and f.mode == "constant" and f.pe == node.weights.shape[0]
            and f.simd == node.fan_in)


def storage(lowered) -> dict:
    """Per layer of a lowered design: ``{"register_bits", "memory_bits"}`` summed over its stages
    (each component states its own; weight memories and FIFOs are memory, line buffers registers)."""
    stages = dict(lowered.top.stages)
    out = {}
    for info in lowered.layers:
        parts = [stages[n] for n in info["stages"]]
        out[info["name"]] = {"register_bits": int(sum(p.register_bits for p in parts)),
                             "memory_bits": int(sum(p.memory_bits for p in parts))}
    return out
