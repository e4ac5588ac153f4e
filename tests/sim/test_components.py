"""Every RTL component type under cocotb + Verilator, with random valid gaps and back-pressure,
against the same references as the Amaranth-simulator tests."""

import numpy as np
import pytest

import rtlcheck
from hw.ir import interp
from hw.ir.schedule import Schedule
from hw.plan import (
    ArgMaxPlan,
    FifoPlan,
    GatherPlan,
    JetPlan,
    MSTPlan,
    MVTUPlan,
    OrPoolPlan,
    ScoreOut,
    SkidPlan,
    SplitPlan,
    ThresholdOut,
    WindowPlan,
)
from hw.rtl.argmax import ArgMax
from hw.rtl.gather import Gather
from hw.rtl.mvtu import MVTU
from hw.rtl.or_reduce import OrReduce
from hw.rtl.skid import SkidBuffer
from hw.rtl.sliding_window import SlidingWindow
from hw.rtl.split import Split
from hw.rtl.stream_fifo import StreamFIFO

pytestmark = pytest.mark.verilator


def verilated(component, beats, n_out, tmp_path, seed=0):
    return rtlcheck.run(component, beats, n_out, backend="verilator", tmp_path=tmp_path, seed=seed)


@pytest.mark.parametrize("case", [
    dict(k=36, o=8, pe=2, simd=6, in_bits=0, mode="memory"),
    dict(k=9, o=6, pe=6, simd=9, in_bits=8, mode="constant", vectors=2),
    dict(k=20, o=4, pe=1, simd=4, in_bits=4, signed=True, mode="memory", out="scores"),
    dict(k=24, o=8, pe=2, simd=6, in_bits=0, mode="memory", input="chunk"),
    dict(k=24, o=8, pe=8, simd=4, in_bits=0, mode="constant", input="chunk"),
], ids=["vector", "vector-m2", "scores", "chunk-buffered", "chunk-direct"])
def test_mvtu(case, tmp_path):
    rng = np.random.default_rng(1)
    k, o = case["k"], case["o"]
    signed = case.get("signed", False)
    vec, chunk = case.get("vectors", 1), case.get("input") == "chunk"
    w, x, acc, hw_acc = rtlcheck.mvtu_case(rng, k, o, case["in_bits"], signed, 12)
    common = dict(in_bits=case["in_bits"], in_signed=signed, mode=case["mode"], vectors=vec,
                  input=case.get("input", "vector"))
    if case.get("out") == "scores":
        bias = rng.integers(-3, 4, o)
        dut = MVTU(MVTUPlan("mvtu", w, case["pe"], case["simd"], ScoreOut(-1, bias, 12), **common))
        want, bits, sgn = interp.scores(acc, -1, bias), 12, True
    else:
        t = rng.integers(hw_acc.min(), hw_acc.max() + 1, o)
        d = rng.choice([-1, 1], o)
        dut = MVTU(MVTUPlan("mvtu", w, case["pe"], case["simd"], ThresholdOut(t, d), **common))
        want, bits, sgn = interp.threshold(hw_acc, t, d), 1, False
    eb = max(1, case["in_bits"])
    beats = rtlcheck.pack(x.reshape(-1, case["simd"]) if chunk else x.reshape(12 // vec, -1), eb)
    out = verilated(dut, beats, 12 // vec, tmp_path)
    assert np.array_equal(rtlcheck.unpack(out, vec * o, bits, sgn).reshape(-1, o), want)


@pytest.mark.parametrize("p,m", [(1, 1), (2, 2), (2, 1)])
def test_sliding_window(p, m, tmp_path):
    rng = np.random.default_rng(2)
    if (p, m) == (1, 1):
        h, w, k, s, pads = 6, 7, (3, 3), (2, 1), (1, 1, 1, 1)
    elif m == 2:
        h, w, k, s, pads = 6, 8, (3, 3), (1, 1), (2, 2, 2, 2)  # output width 10: two windows a cycle
    else:
        h, w, k, s, pads = 6, 8, (2, 2), (2, 2), (0, 0, 0, 0)  # pooling: a window every two pixels
    x = rng.integers(0, 2, (2, 3, h, w))
    dut = SlidingWindow(WindowPlan("swg", 3, 1, h, w, k, s, pads, 0, in_pixels=p, windows=m))
    want = rtlcheck.window_case(x, k, s, pads, 0)
    n = k[0] * k[1] * 3
    out = verilated(dut, rtlcheck.pack(x.transpose(0, 2, 3, 1).reshape(-1, 3 * p), 1), len(want) // m, tmp_path)
    assert np.array_equal(rtlcheck.unpack(out, m * n, 1).reshape(-1, n), want)


def test_or_reduce_gather_argmax(tmp_path):
    rng = np.random.default_rng(3)
    win = rng.integers(0, 2, (20, 4, 5))
    out = verilated(OrReduce(OrPoolPlan(4, 5)), rtlcheck.pack(win.reshape(20, -1), 1), 20, tmp_path / "or")
    assert np.array_equal(rtlcheck.unpack(out, 5, 1), win.max(axis=1))
    beats = rng.integers(0, 64, 24).tolist()
    out = verilated(Gather(GatherPlan(6, 4)), beats, 6, tmp_path / "gather")
    assert out == rtlcheck.pack(np.array(beats).reshape(6, 4), 6)
    wide = rtlcheck.pack(np.array(beats).reshape(8, 3), 6)
    out = verilated(Split(SplitPlan(6, 3)), wide, 24, tmp_path / "split")
    assert out == beats
    scores = rng.integers(-8, 8, (30, 10))
    scores[::4] = 3
    dut = ArgMax(ArgMaxPlan(10, 5))
    out = verilated(dut, rtlcheck.pack(scores, 5), 30, tmp_path / "argmax")
    assert [b & 15 for b in out] == interp.argmax(scores).tolist()


def test_jet_unit(tmp_path):
    from hw.rtl.jet_unit import JetUnit

    co, win, want, t, d = rtlcheck.jet_case(np.random.default_rng(5), 8, 2, 8, True, n=10)
    out = verilated(JetUnit(JetPlan("jet", co, 2, ThresholdOut(t, d), in_bits=8)),
                    rtlcheck.pack(win.reshape(len(win), -1), 8), 10, tmp_path)
    assert np.array_equal(rtlcheck.unpack(out, 8, 1), want)


@pytest.mark.parametrize("bound", [None, 2])
def test_mst_unit(bound, tmp_path):
    from hw.rtl.mst_unit import MSTUnit

    w, parents, x, t, d, want = rtlcheck.mst_case(np.random.default_rng(6), 24, 72, bound, n=30)
    vec = 2 if bound else 1
    plan = MSTPlan("mst", w, Schedule(parents), ThresholdOut(t, d), vectors=vec)
    assert plan.schedule.max_depth <= (bound if bound is not None else 24) and plan.xnors < 24 * 72
    out = verilated(MSTUnit(plan), rtlcheck.pack(x.reshape(30 // vec, -1), 1), 30 // vec, tmp_path, seed=bound or 0)
    assert np.array_equal(rtlcheck.unpack(out, vec * 24, 1).reshape(-1, 24), want)


@pytest.mark.parametrize("unit", [lambda: SkidBuffer(SkidPlan(7)), lambda: StreamFIFO(FifoPlan(7, 20)),
                                  lambda: StreamFIFO(FifoPlan(300, 9))], ids=["skid", "fifo", "fifo-read-slices"])
def test_queues(unit, tmp_path):
    """Random payloads as wide as the unit: a 300-bit queue in LUT RAM reads in three slices, each
    under its own pointer and flags, which must stay in step under gaps and back-pressure."""
    dut = unit()
    width = len(dut.i.payload)
    rng = np.random.default_rng(width)
    beats = rtlcheck.pack(rng.integers(0, 2, (100, width)), 1)
    assert verilated(dut, beats, 100, tmp_path) == beats


def test_compressor_tree(tmp_path):
    """A larger popcount behind streams (random gaps and back-pressure toggle its enable): 576 lanes
    with variable weights on xc7, so LUT counters over lanes, carry-chain GPCs with group bits,
    carry-ins and extension bits, registered and combinational stages. (ECP5's packed segments are
    in the Amaranth-simulator tests; a second Verilator build would cost another 45 s.)"""
    from hw.plan.popcount import CompressorTreePlan

    rng = np.random.default_rng(7)
    plan = CompressorTreePlan(576, None, "xc7", 2)
    x, w = rng.integers(0, 2, (40, 576)), rng.integers(0, 2, (40, 576))
    out = verilated(rtlcheck.PopcountStream(plan), rtlcheck.pack(np.concatenate([x, w], axis=1), 1), 40, tmp_path)
    assert out == (x == w).sum(axis=1).tolist()
