"""Random networks folded for hardware, and a check that streams images through the built design."""

import tempfile

import numpy as np

from hw.ir import interp
from hw.passes import hardware_pipeline, run_pipeline, to_hwc
from hw.plan import auto_folding, plan_graph
from hw.rtl.build import dataflow
from irgraphs import random_net
from sim.amaranth_run import run_stream
from sim.stream import Gaps

__all__ = ["folded_net", "random_codes", "simulate"]


def folded_net(seed, target=None, folding=None, **kw):
    g = random_net(seed, **kw)
    if folding is None:
        folding = auto_folding(to_hwc(g), target)
    with tempfile.TemporaryDirectory() as d:  # verify the IR between passes, as BITFOLD_DEBUG=1 does
        return run_pipeline(g, hardware_pipeline(folding), debug=True, debug_dir=d)


def random_codes(graph, n, seed=0):
    t = graph.nodes[0].out
    return np.random.default_rng(seed).integers(t.lo, t.hi + 1, (n,) + t.shape)


def simulate(graph, codes, gap=0.3, seed=0, queues="sized", cycles=None):
    """Stream ``codes`` through the built design (Amaranth simulator); returns decoded
    ``(classes, scores)`` and the reference's."""
    plan = plan_graph(graph, queues)
    inl, outl = plan.input, plan.output
    beats = [b for img in inl.images(codes) for b in inl.beats_of(img)]
    out = run_stream(dataflow(plan), beats, len(codes), Gaps(gap, seed), Gaps(gap, seed + 1), cycles=cycles,
                     max_cycles=100_000 * len(codes))
    dec = [outl.decode(b) for b in out]
    ref = interp.run(graph, codes, from_codes=True)
    return (np.array([d[0] for d in dec]), np.array([d[1] for d in dec])), (interp.argmax(ref), ref)
