import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rtlcheck
from elaborated import counts
from hw.errors import BitfoldError
from hw.ir import interp
from hw.passes.fold import divisors
from hw.plan import MVTUPlan, Popcount, ScoreOut, ThresholdOut
from hw.plan.mvtu import InputMode
from hw.rtl.mvtu import MVTU
from sim.amaranth_run import run_stream

pytestmark = pytest.mark.amaranth_sim


@st.composite
def mvtu_params(draw):
    k = draw(st.integers(1, 40))
    o = draw(st.integers(1, 12))
    chunk = draw(st.booleans())
    return dict(
        k=k, o=o, pe=draw(st.sampled_from(divisors(o))), simd=draw(st.sampled_from(divisors(k))),
        in_bits=draw(st.sampled_from([0, 0, 1, 3, 8])), in_signed=draw(st.booleans()),
        mode=draw(st.sampled_from(["memory", "constant"])), out=draw(st.sampled_from(["threshold", "scores"])),
        input="chunk" if chunk else "vector", vectors=1 if chunk else draw(st.sampled_from([1, 1, 2, 3])),
        seed=draw(st.integers(0, 2**16)),
        popcount=Popcount(draw(st.sampled_from(["compressor", "compressor", "tree"])),
                          draw(st.sampled_from(["xc7", "ecp5", "ice40"]))),
    )


def build_case(p, vectors=6):
    """The plan, its input beats, and the reference outputs (one row per vector)."""
    rng = np.random.default_rng(p["seed"])
    signed = p["in_signed"] and p["in_bits"] > 1
    m = p.get("vectors", 1)
    w, x, acc, hw_acc = rtlcheck.mvtu_case(rng, p["k"], p["o"], p["in_bits"], signed, vectors * m)
    eb = max(1, p["in_bits"])
    common = dict(in_bits=p["in_bits"], in_signed=signed, mode=p["mode"], vectors=m,
                  input=p.get("input", "vector"), popcount=p.get("popcount", Popcount()))
    if p["out"] == "threshold":
        t = rng.integers(hw_acc.min() - 1, hw_acc.max() + 2, p["o"])
        d = rng.choice([-1, 1], p["o"])
        plan = MVTUPlan("mvtu", w, p["pe"], p["simd"], ThresholdOut(t, d), **common)
        want = interp.threshold(hw_acc, t, d)
        decode = (p["o"], 1, False)
    else:
        sign = int(rng.choice([-1, 1]))
        bias = rng.integers(-5, 6, p["o"])
        scores = interp.scores(acc, sign, bias)
        width = int(max(np.abs(scores).max(), np.abs(acc).max() + 5)).bit_length() + 2
        plan = MVTUPlan("mvtu", w, p["pe"], p["simd"], ScoreOut(sign, bias, width), **common)
        want = scores
        decode = (p["o"], width, True)
    if plan.input == InputMode.CHUNK:
        beats = rtlcheck.pack(x.reshape(-1, p["simd"]), eb)  # sf chunks per vector
    else:
        beats = rtlcheck.pack(x.reshape(vectors, -1), eb)  # M vectors per beat
    return plan, beats, want, decode


def outputs(out, plan, decode):
    count, bits, signed = decode
    return rtlcheck.unpack(out, plan.vectors * count, bits, signed).reshape(-1, count)


@settings(max_examples=30, deadline=None)
@given(p=mvtu_params())
def test_mvtu_equals_reference_with_gaps_and_backpressure(p):
    plan, beats, want, decode = build_case(p)
    items = len(beats) // (plan.sf if plan.input == InputMode.CHUNK else 1)
    out = rtlcheck.run(MVTU(plan), beats, items, seed=p["seed"])
    assert np.array_equal(outputs(out, plan, decode), want)


@pytest.mark.parametrize("in_bits,vectors", [(0, 1), (8, 1), (0, 3)])
def test_fully_parallel_unit_takes_a_beat_every_cycle(in_bits, vectors):
    p = dict(k=16, o=4, pe=4, simd=16, in_bits=in_bits, in_signed=False, mode="constant", out="threshold", seed=3,
             vectors=vectors)
    plan, beats, want, decode = build_case(p, vectors=20)
    cycles = []
    out = run_stream(MVTU(plan), beats, len(beats), cycles=cycles)
    assert np.array_equal(outputs(out, plan, decode), want)
    assert np.all(np.diff(cycles) == 1)  # II = 1
    assert plan.cycles_per_vector == 1


@pytest.mark.parametrize("pe,simd,input", [(1, 1, "vector"), (2, 4, "vector"), (4, 8, "vector"), (4, 2, "chunk"),
                                           (2, 2, "chunk"), (1, 8, "chunk")])
def test_back_to_back_vectors_and_stated_latency(pe, simd, input):
    p = dict(k=8, o=4, pe=pe, simd=simd, in_bits=0, in_signed=False, mode="memory", out="threshold", seed=5,
             input=input)
    plan, beats, want, decode = build_case(p, vectors=10)
    cycles = []
    out = run_stream(MVTU(plan), beats, 10, cycles=cycles)
    assert np.array_equal(outputs(out, plan, decode), want)
    assert np.all(np.diff(cycles) == max(plan.cycles_per_vector, plan.sf if input == "chunk" else 1))
    # the item's last beat is offered in cycle (beats per item - 1), its result `latency` cycles later
    # and sampled by the sink at the end of that cycle
    per_item = plan.sf if input == "chunk" else 1
    assert cycles[0] == per_item - 1 + plan.latency + 1


@pytest.mark.parametrize("family,mode,o", [("xc7", "constant", 8), ("xc7", "memory", 64), ("ecp5", "constant", 8),
                                           ("xc7", "memory", 72)])
def test_weight_table_with_and_without_the_xnor_folded_in(family, mode, o):
    """A binary weight table in logic is read combinationally with the XNOR folded in on xc7 up to
    64 words (here 16 and 64); on ECP5, and beyond 64 words (block RAM), it is read into a register."""
    p = dict(k=16, o=o, pe=2, simd=4, in_bits=0, in_signed=False, mode=mode, out="threshold", seed=7,
             input="vector", popcount=Popcount(family=family))
    plan, beats, want, decode = build_case(p, vectors=5)
    assert plan.table_xnor == (family == "xc7" and plan.depth <= 64)
    cycles = []
    out = run_stream(MVTU(plan), beats, 5, cycles=cycles)
    assert np.array_equal(outputs(out, plan, decode), want)
    assert cycles[0] == plan.latency + 1  # offered in cycle 0, sampled at the end of cycle `latency`


def test_folding_that_does_not_divide_lists_the_valid_values():
    w = np.zeros((6, 10), np.uint8)
    out = ThresholdOut(np.zeros(6), np.ones(6))
    with pytest.raises(BitfoldError, match=r"^fc: PE=4 does not divide 6 outputs; valid PE: \[1, 2, 3, 6\]$"):
        MVTUPlan("fc", w, 4, 1, out)
    with pytest.raises(BitfoldError, match=r"^fc: SIMD=3 does not divide 10 inputs; valid SIMD: \[1, 2, 5, 10\]$"):
        MVTUPlan("fc", w, 1, 3, out)
    with pytest.raises(BitfoldError, match=r"^fc: 2 vectors at once need whole-vector input beats$"):
        MVTUPlan("fc", w, 1, 1, out, vectors=2, input="chunk")


@pytest.mark.parametrize("in_bits,mode,input,vectors,pe,o,family", [
    (0, "memory", "chunk", 1, 20, 20, "xc7"), (0, "constant", "vector", 2, 12, 24, "xc7"),
    (8, "constant", "vector", 1, 20, 20, "xc7"), (3, "memory", "vector", 2, 9, 18, "xc7"),
    (0, "memory", "chunk", 1, 10, 20, "ecp5"), (0, "constant", "vector", 1, 16, 16, "ecp5"),
    (0, "memory", "vector", 2, 12, 24, "ecp5"), (0, "memory", "vector", 1, 9, 81, "ecp5"),
    (0, "memory", "chunk", 1, 9, 81, "ecp5"), (0, "memory", "chunk", 1, 10, 330, "xc7")])
def test_registers_every_pe_reads_are_copied_per_group_of_pes(in_bits, mode, input, vectors, pe, o, family,
                                                             monkeypatch):
    """More PEs than one copy of a register drives: the chunk, the flags and the group index have a
    copy per group of PEs (the last group may be smaller; a buffered input and hard-wired weights
    keep one chunk), a table in logic a copy of its address per span of lanes (here 16, so spans
    cut through PEs), and the results are those of one register."""
    from hw.plan.memory import MemoryStyle
    from hw.plan.mvtu import PES_PER_COPY

    monkeypatch.setattr("hw.plan.mvtu.LANES_PER_ADDRESS", 16)

    p = dict(k=12, o=o, pe=pe, simd=6, in_bits=in_bits, in_signed=in_bits > 1, mode=mode, out="threshold",
             seed=pe, input=input, vectors=vectors, popcount=Popcount(family=family))
    plan, beats, want, decode = build_case(p, vectors=4)
    groups = -(-pe // PES_PER_COPY)
    assert plan.pe_groups == groups > 1
    assert groups * plan.pes_per_copy >= pe > (groups - 1) * plan.pes_per_copy
    wired = plan.weight_style == MemoryStyle.WIRED
    assert plan.chunk_copies == (1 if plan.buffered or wired else groups)
    assert plan.address_copies == (-(-pe * 6 // 16) if plan.weight_style == MemoryStyle.LOGIC else 1)
    if (o, family) == (330, "xc7"):  # 66 words: block RAM on xc7 too
        assert plan.weight_style == MemoryStyle.BLOCK
    # ECP5's block RAM is read through two registers; xc7's lane counters are registered instead
    assert plan.weight_read_registers == ({"ecp5": 2, "xc7": 0}[family] if plan.weight_style == MemoryStyle.BLOCK
                                          else 0)
    got = counts(MVTU(plan))
    assert (got["register_bits"], got["memory_bits"]) == (plan.register_bits, plan.memory_bits)
    items = len(beats) // (plan.sf if plan.input == InputMode.CHUNK else 1)
    out = rtlcheck.run(MVTU(plan), beats, items, seed=pe)
    assert np.array_equal(outputs(out, plan, decode), want)
