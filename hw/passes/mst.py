"""Attach MST schedules (:mod:`hw.mst`) to binary layers.

Every Dense/Conv layer with a binary input and a threshold after it gets a schedule: the one
given (from the model's metadata, as trained) or a minimum spanning tree of its weights within
``depth_bound``. The reference then computes those layers the scheduled way; the lowering builds
them as MST units when they are fully parallel with hard-wired weights (elsewhere the saving is
not real, and the plain unit is kept).
"""

from ..errors import BitfoldError
from ..ir.graph import Conv, Dense, Graph, Kind, Threshold
from ..ir.schedule import Schedule
from ..mst import mst_schedule

__all__ = ["attach_mst", "mst_layers"]


def mst_layers(graph: Graph):
    """Names of the layers a schedule can apply to, in order."""
    names = []
    for i, node in enumerate(graph.nodes):
        follow = graph.nodes[i + 1] if i + 1 < len(graph.nodes) else None
        if isinstance(node, Dense | Conv) and graph.in_type(i).kind == Kind.BITS and isinstance(follow, Threshold):
            names.append(node.name)
    return names


def attach_mst(graph: Graph, depth_bound: int | None = None, schedules: dict | None = None) -> Graph:
    """``schedules``: ``{layer name: parents}`` to use as given; other eligible layers get
    :func:`~hw.mst.mst_schedule` within ``depth_bound``."""
    eligible = mst_layers(graph)
    schedules = dict(schedules or {})
    unknown = sorted(set(schedules) - set(eligible))
    if unknown:
        raise BitfoldError(f"MST schedules given for {', '.join(unknown)}, which are not binary layers with a "
                           f"threshold; eligible: {', '.join(eligible) or 'none'}")
    nodes = []
    for node in graph.nodes:
        if node.name in eligible:
            if node.name in schedules:
                parents = schedules[node.name]
                if len(parents) != node.weights.shape[0]:
                    raise BitfoldError(f"layer {node.name}: its MST schedule has {len(parents)} channels, "
                                       f"the layer {node.weights.shape[0]}")
                sched = Schedule(tuple(parents), depth_bound)
            else:
                sched = mst_schedule(node.weights.reshape(len(node.weights), -1), depth_bound)
            node = node.replace(schedule=sched)
        nodes.append(node)
    return graph.replace(nodes)
