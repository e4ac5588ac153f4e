"""The regression set: designs synthesized to calibrate and validate the estimator.

Every unit type at several foldings, widths and both weight modes, plus whole networks built from
seeded random weights through the real compiler (the zoo topologies at their hardware shapes).
Each entry builds the unit plans of one design (:func:`build`); :func:`design_verilog` builds its
RTL. Nothing here depends on training.
"""

import numpy as np

from ..compile import FoldAuto, compile_graph
from ..plan import (
    ArgMaxPlan,
    FifoPlan,
    GatherPlan,
    JetPlan,
    MSTPlan,
    MVTUPlan,
    OrPoolPlan,
    Popcount,
    PopcountStyle,
    ScoreOut,
    SkidPlan,
    SplitPlan,
    Stage,
    ThresholdOut,
    WindowPlan,
)

__all__ = ["DESIGNS", "NETS", "build", "names", "design_verilog"]


def _mvtu(pc, k, o, pe, simd, in_bits=0, signed=False, mode="memory", scores=False, seed=0, **kw):
    rng = np.random.default_rng(seed)
    w = rng.integers(0, 2, (o, k), dtype=np.uint8)
    common = dict(in_bits=in_bits, in_signed=signed, mode=mode, popcount=pc, **kw)
    if scores:
        width = (k * max(1, 2**in_bits)).bit_length() + 2
        return MVTUPlan("mvtu", w, pe, simd, ScoreOut(1, np.zeros(o, np.int64), width), **common)
    hi = k if in_bits == 0 else k * (2**in_bits - 1)
    t = rng.integers(0 if in_bits == 0 else -hi // 4, hi // 2 + 1, o)
    return MVTUPlan("mvtu", w, pe, simd, ThresholdOut(t, rng.choice([-1, 1], o)), **common)


# network shapes of the zoo (weights seeded at random: synthesis cost does not depend on training)
NETS = {
    "jet-mnist": dict(layers=[("jet", 16), ("conv", 32, 3, 1, 0), ("pool", 2), ("conv", 32, 3, 1, 0),
                              ("conv", 32, 3, 1, 0), ("pool", 2), ("dense", 128)], in_shape=(1, 28, 28)),
    "digits-mlp": dict(layers=[("dense", 128), ("dense", 128)], in_shape=(1, 8, 8)),
    "tfc": dict(layers=[("dense", 64)] * 3, in_shape=(1, 28, 28)),
    "sfc": dict(layers=[("dense", 256)] * 3, in_shape=(1, 28, 28)),
    "cnv-mnist": dict(layers=[("conv", 16, 3, 1, 0), ("conv", 32, 3, 1, 0), ("pool", 2), ("conv", 32, 3, 1, 0),
                              ("conv", 32, 3, 1, 0), ("pool", 2), ("dense", 128)], in_shape=(1, 28, 28)),
}


def _net(pc, model, target):
    """A zoo-shaped network with seeded random weights, folded for ``target`` cycles per image."""
    from ..synthetic import synthetic_graph

    return compile_graph(synthetic_graph(**NETS[model]), FoldAuto(target), popcount=pc).plan


def _jet(o, c, pe, in_bits=8, constrained=True, seed=0, vectors=1):
    rng = np.random.default_rng(seed)
    if constrained:
        co = np.zeros((o, c, 9), np.int64)
        co[np.arange(o)[:, None], np.arange(c)[None, :], rng.integers(0, 9, (o, c))] = rng.choice([-1, 1], (o, c))
    else:
        co = rng.integers(-1, 2, (o, c, 9))
    bound = 16 * (2**in_bits - 1 if in_bits else 1) * 9 * c
    return JetPlan("jet", co, pe, ThresholdOut(rng.integers(-bound // 8, bound // 8 + 1, o), rng.choice([-1, 1], o)),
                   in_bits=in_bits, vectors=vectors)


def _mst(pc, o, k, flip, depth=None, seed=0, vectors=1):
    """An MST unit over weights that are noisy copies of a few prototypes (as MST training makes)."""
    from ..ir.schedule import Schedule
    from ..mst import mst_schedule

    rng = np.random.default_rng(seed)
    protos = rng.integers(0, 2, (max(1, o // 8), k), dtype=np.uint8)
    w = (protos[rng.integers(0, len(protos), o)] ^ (rng.random((o, k)) < flip)).astype(np.uint8)
    output = ThresholdOut(rng.integers(k // 3, 2 * k // 3, o), rng.choice([-1, 1], o))
    return MSTPlan("mst", w, Schedule(mst_schedule(w, depth).parents), output, vectors=vectors, popcount=pc)


# name -> (kind, builder). A builder returns a unit plan, or a whole design's Plan.
DESIGNS = {
    "mvtu-bin-block-288x32-p4s32": ("MVTU", lambda pc: _mvtu(pc, 288, 32, 4, 32)),
    "mvtu-bin-logic-144x32-p8s48": ("MVTU", lambda pc: _mvtu(pc, 144, 32, 8, 48)),
    "mvtu-bin-logic-576x32-p2s288": ("MVTU", lambda pc: _mvtu(pc, 576, 32, 2, 288)),
    "mvtu-bin-rom-144x16-p4s36": ("MVTU", lambda pc: _mvtu(pc, 144, 16, 4, 36, mode="constant")),
    "mvtu-bin-const-64x16-full": ("MVTU", lambda pc: _mvtu(pc, 64, 16, 16, 64, mode="constant")),
    "mvtu-bin-const-256x8-full": ("MVTU", lambda pc: _mvtu(pc, 256, 8, 8, 256, mode="constant")),
    "mvtu-bin-const-128x32-p32s64": ("MVTU", lambda pc: _mvtu(pc, 128, 32, 32, 64, mode="constant")),
    "mvtu-int8-block-784x64-p1s56": ("MVTU", lambda pc: _mvtu(pc, 784, 64, 1, 56, in_bits=8)),
    "mvtu-int8-logic-9x16-p8s9": ("MVTU", lambda pc: _mvtu(pc, 9, 16, 8, 9, in_bits=8)),
    "mvtu-int8-const-9x16-full": ("MVTU", lambda pc: _mvtu(pc, 9, 16, 16, 9, in_bits=8, mode="constant")),
    "mvtu-int4s-logic-36x8-p2s12": ("MVTU", lambda pc: _mvtu(pc, 36, 8, 2, 12, in_bits=4, signed=True)),
    "mvtu-int8-const-64x32-p8s16": ("MVTU", lambda pc: _mvtu(pc, 64, 32, 8, 16, in_bits=8, mode="constant")),
    "mvtu-bin-scores-128x10-p2s64": ("MVTU", lambda pc: _mvtu(pc, 128, 10, 2, 64, scores=True)),
    "mvtu-bin-block-1024x64-p4s128": ("MVTU", lambda pc: _mvtu(pc, 1024, 64, 4, 128)),
    "mvtu-bin-logic-256x64-p16s64": ("MVTU", lambda pc: _mvtu(pc, 256, 64, 16, 64, seed=1)),
    "mvtu-bin-logic-512x16-p4s256": ("MVTU", lambda pc: _mvtu(pc, 512, 16, 4, 256, seed=2)),
    "mvtu-bin-block-800x128-p2s100": ("MVTU", lambda pc: _mvtu(pc, 800, 128, 2, 100, seed=3)),
    "mvtu-bin-rom-288x32-p8s96": ("MVTU", lambda pc: _mvtu(pc, 288, 32, 8, 96, mode="constant", seed=4)),
    "mvtu-bin-rom-64x64-p16s16": ("MVTU", lambda pc: _mvtu(pc, 64, 64, 16, 16, mode="constant", seed=5)),
    "mvtu-bin-const-144x32-full": ("MVTU", lambda pc: _mvtu(pc, 144, 32, 32, 144, mode="constant", seed=6)),
    "mvtu-bin-const-32x64-full": ("MVTU", lambda pc: _mvtu(pc, 32, 64, 64, 32, mode="constant", seed=7)),
    "mvtu-int8-const-25x8-full": ("MVTU", lambda pc: _mvtu(pc, 25, 8, 8, 25, in_bits=8, mode="constant", seed=8)),
    "mvtu-int8-logic-9x32-p4s9": ("MVTU", lambda pc: _mvtu(pc, 9, 32, 4, 9, in_bits=8, seed=9)),
    "mvtu-int8-block-784x256-p4s16": ("MVTU", lambda pc: _mvtu(pc, 784, 256, 4, 16, in_bits=8, seed=10)),
    "mvtu-int2-logic-64x16-p4s32": ("MVTU", lambda pc: _mvtu(pc, 64, 16, 4, 32, in_bits=2, seed=11)),
    "mvtu-int8-rom-27x16-p4s9": ("MVTU", lambda pc: _mvtu(pc, 27, 16, 4, 9, in_bits=8, mode="constant", seed=12)),
    "mvtu-bin-scores-256x10-p10s32": ("MVTU", lambda pc: _mvtu(pc, 256, 10, 10, 32, scores=True, seed=13)),
    "mvtu-bin-scores-64x10-full": ("MVTU", lambda pc: _mvtu(pc, 64, 10, 10, 64, mode="constant", scores=True, seed=14)),
    "jet-int8-1to16-p16": ("JetUnit", lambda pc: _jet(16, 1, 16)),
    "jet-int8-1to16-p4": ("JetUnit", lambda pc: _jet(16, 1, 4, seed=1)),
    "jet-int8-1to32-p32": ("JetUnit", lambda pc: _jet(32, 1, 32, seed=2)),
    "jet-bin-8to16-p16": ("JetUnit", lambda pc: _jet(16, 8, 16, in_bits=0, seed=3)),
    "jet-int8-3to16-full-p8": ("JetUnit", lambda pc: _jet(16, 3, 8, constrained=False, seed=4)),
    "mst-144x32-f10": ("MSTUnit", lambda pc: _mst(pc, 32, 144, 0.10, seed=1)),
    "mst-144x32-f05-d4": ("MSTUnit", lambda pc: _mst(pc, 32, 144, 0.05, 4, seed=2)),
    "mst-288x32-f10-d4": ("MSTUnit", lambda pc: _mst(pc, 32, 288, 0.10, 4, seed=3)),
    "mst-256x64-f20": ("MSTUnit", lambda pc: _mst(pc, 64, 256, 0.20, seed=4)),
    "mst-64x16-f30-d2": ("MSTUnit", lambda pc: _mst(pc, 16, 64, 0.30, 2, seed=5)),
    "swg-16x1b-26x26-k3": ("SlidingWindow", lambda pc: WindowPlan("swg", 16, 1, 26, 26, (3, 3))),
    "swg-1x8b-28x28-k3": ("SlidingWindow", lambda pc: WindowPlan("swg", 1, 8, 28, 28, (3, 3))),
    "swg-32x1b-24x24-k2s2": ("SlidingWindow", lambda pc: WindowPlan("swg", 32, 1, 24, 24, (2, 2), (2, 2))),
    "swg-8x1b-12x12-k3-pad1": ("SlidingWindow", lambda pc: WindowPlan("swg", 8, 1, 12, 12, (3, 3), pads=(1, 1, 1, 1))),
    "or-9x64": ("OrReduce", lambda pc: OrPoolPlan(9, 64)),
    "or-4x128": ("OrReduce", lambda pc: OrPoolPlan(4, 128)),
    "or-16x32": ("OrReduce", lambda pc: OrPoolPlan(16, 32)),
    "fifo-16x677-block": ("StreamFIFO", lambda pc: FifoPlan(16, 677)),
    "fifo-32x65-distributed": ("StreamFIFO", lambda pc: FifoPlan(32, 65)),
    "fifo-64x30-distributed": ("StreamFIFO", lambda pc: FifoPlan(64, 30)),
    "fifo-128x17-distributed": ("StreamFIFO", lambda pc: FifoPlan(128, 17)),
    "fifo-32x577-block": ("StreamFIFO", lambda pc: FifoPlan(32, 577)),
    "argmax-10x12": ("ArgMax", lambda pc: ArgMaxPlan(10, 12)),
    "argmax-10x8": ("ArgMax", lambda pc: ArgMaxPlan(10, 8)),
    "argmax-26x14": ("ArgMax", lambda pc: ArgMaxPlan(26, 14)),
    "gather-32x16": ("Gather", lambda pc: GatherPlan(32, 16)),
    "skid-256": ("SkidBuffer", lambda pc: SkidPlan(256)),
    "skid-64": ("SkidBuffer", lambda pc: SkidPlan(64)),
    "skid-1024": ("SkidBuffer", lambda pc: SkidPlan(1024)),
    "net-digits-mlp-t200": ("Network", lambda pc: _net(pc, "digits-mlp", 200)),
    "net-tfc-t1000": ("Network", lambda pc: _net(pc, "tfc", 1000)),
    "net-cnv-mnist-t4000": ("Network", lambda pc: _net(pc, "cnv-mnist", 4000)),
    "net-tfc-t4000": ("Network", lambda pc: _net(pc, "tfc", 4000)),
    "net-jet-mnist-t4000": ("Network", lambda pc: _net(pc, "jet-mnist", 4000)),
    "net-digits-mlp-t1000": ("Network", lambda pc: _net(pc, "digits-mlp", 1000)),
    # wider popcounts, and the adder tree beside the compressor tree on the same units
    "mvtu-bin-block-2048x32-p2s512": ("MVTU", lambda pc: _mvtu(pc, 2048, 32, 2, 512, seed=15)),
    "mvtu-bin-const-576x16-full": ("MVTU", lambda pc: _mvtu(pc, 576, 16, 16, 576, mode="constant", seed=16)),
    "mvtu-bin-logic-64x32-p8s8": ("MVTU", lambda pc: _mvtu(pc, 64, 32, 8, 8, seed=17)),
    "mvtu-bin-block-288x32-p4s32-tree": ("MVTU", lambda pc: _mvtu(pc, 288, 32, 4, 32)),
    "mvtu-bin-logic-144x32-p8s48-tree": ("MVTU", lambda pc: _mvtu(pc, 144, 32, 8, 48)),
    "mvtu-bin-block-1024x64-p4s128-tree": ("MVTU", lambda pc: _mvtu(pc, 1024, 64, 4, 128)),
    "mvtu-bin-rom-288x32-p8s96-tree": ("MVTU", lambda pc: _mvtu(pc, 288, 32, 8, 96, mode="constant", seed=4)),
    "mvtu-bin-const-64x16-full-tree": ("MVTU", lambda pc: _mvtu(pc, 64, 16, 16, 64, mode="constant")),
    "mvtu-bin-const-144x32-full-tree": ("MVTU", lambda pc: _mvtu(pc, 144, 32, 32, 144, mode="constant", seed=6)),
    "mvtu-bin-scores-128x10-p2s64-tree": ("MVTU", lambda pc: _mvtu(pc, 128, 10, 2, 64, scores=True)),
    "mst-144x32-f10-tree": ("MSTUnit", lambda pc: _mst(pc, 32, 144, 0.10, seed=1)),
    "mst-256x64-f20-tree": ("MSTUnit", lambda pc: _mst(pc, 64, 256, 0.20, seed=4)),
    # the throughput shapes: M windows at once, chunked input (direct and double-buffered), words of
    # P pixels, wide-to-narrow splits, and networks at fast design points
    "mvtu-bin-const-144x16-full-m2": ("MVTU", lambda pc: _mvtu(pc, 144, 16, 16, 144, mode="constant", seed=18,
                                                               vectors=2)),
    "mvtu-bin-logic-288x32-p8s32-m4": ("MVTU", lambda pc: _mvtu(pc, 288, 32, 8, 32, seed=19, vectors=4)),
    "mvtu-bin-chunk-1024x16-p16s64": ("MVTU", lambda pc: _mvtu(pc, 1024, 16, 16, 64, seed=20, input="chunk")),
    "mvtu-bin-chunkbuf-256x64-p8s32": ("MVTU", lambda pc: _mvtu(pc, 256, 64, 8, 32, seed=21, input="chunk")),
    "mvtu-int8-chunk-784x64-p4s49": ("MVTU", lambda pc: _mvtu(pc, 784, 64, 4, 49, in_bits=8, seed=22, input="chunk")),
    "mst-144x32-f10-m2": ("MSTUnit", lambda pc: _mst(pc, 32, 144, 0.10, seed=5, vectors=2)),
    "jet-int8-1to16-p16-m2": ("JetUnit", lambda pc: _jet(16, 1, 16, seed=6, vectors=2)),
    "swg-16x1b-26x26-k3-p2m2": ("SlidingWindow", lambda pc: WindowPlan("swg", 16, 1, 26, 26, (3, 3), in_pixels=2,
                                                                        windows=2)),
    "swg-1x8b-26x26-k3-p2m4": ("SlidingWindow", lambda pc: WindowPlan("swg", 1, 8, 26, 26, (3, 3), in_pixels=2,
                                                                       windows=4)),
    "swg-32x1b-24x24-k2s2-m4": ("SlidingWindow", lambda pc: WindowPlan("swg", 32, 1, 24, 24, (2, 2), (2, 2),
                                                                        in_pixels=4, windows=4)),
    "or-4x32-m4": ("OrReduce", lambda pc: OrPoolPlan(4, 32, 4)),
    "split-64x8": ("Split", lambda pc: SplitPlan(64, 8)),
    "split-256x4": ("Split", lambda pc: SplitPlan(256, 4)),
    "net-cnv-mnist-t400": ("Network", lambda pc: _net(pc, "cnv-mnist", 400)),
    "net-sfc-t256": ("Network", lambda pc: _net(pc, "sfc", 256)),
    "net-tfc-t64": ("Network", lambda pc: _net(pc, "tfc", 64)),
}


def names():
    return list(DESIGNS)


def build(name, family="xc7"):
    """``(kind, stages)`` of a regression design for ``family`` (its compressor trees scheduled for
    that family; a name ending in ``-tree`` builds its popcounts as adder trees): its stages
    (:class:`~hw.plan.Stage`) in dataflow order, a single unit's stage named ``dut``."""
    if name not in DESIGNS:
        raise KeyError(f"no regression design named {name!r}")
    kind, make = DESIGNS[name]
    obj = make(Popcount(PopcountStyle.TREE if name.endswith("-tree") else PopcountStyle.COMPRESSOR, family))
    if kind == "Network":
        return kind, obj.stages
    return kind, (Stage("dut", obj),)


def design_verilog(name, family="xc7"):
    """``(kind, stages, top module name, Verilog)`` of a regression design for ``family``."""
    from amaranth.back import verilog

    from ..rtl.build import dataflow

    kind, stages = build(name, family)
    top = "reg_" + "".join(ch if ch.isalnum() else "_" for ch in name)
    return kind, stages, top, verilog.convert(dataflow(stages), name=top, emit_src=False)
