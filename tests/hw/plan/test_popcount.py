"""The compressor tree's schedule: it counts (evaluated from the plan's data alone), it respects
what each family's cells can take, it states its registers, and it meets the issue's LUT targets
(predicted; the synthesis tests check the prediction against Yosys)."""

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from elaborated import counts
from hw.errors import BitfoldError
from hw.families import FAMILIES
from hw.plan.popcount import INV, LANE, TARGETS, WIRE, CompressorTreePlan, PopcountStyle
from hw.rtl.compressor_tree import CompressorTree


def evaluate(plan, x, w):
    """The count the schedule computes, from the plan's data only: every stage's compressors over
    the heap of the stage before (a bit in column c weighs 2**c)."""
    if not plan.stages:
        return int(x[0] == w[0])
    heap = [int(a == b) for a, b in zip(x, w, strict=True)]
    for stage in plan.stages:
        out = []
        for c in stage.counters:
            total = sum(heap[i] << off for off, i in c.inputs)
            assert total < 2**c.width
            out += [(total >> j) & 1 for j in range(c.width)]
        for seg in stage.segments:
            total = sum(heap[i] << p for p, i in enumerate(seg.a) if i is not None)
            total += sum(heap[i] << p for p, i in enumerate(seg.b) if i is not None)
            for g in seg.groups:
                total += sum(heap[i] for i in g.inputs) << g.position
            total += heap[seg.cin] if seg.cin is not None else 0
            assert total < 2**seg.width
            out += [(total >> j) & 1 for j in range(seg.width)]
        out += [heap[i] for i in stage.passthrough]
        assert len(out) == len(stage.out_columns)
        heap = out
    columns = plan.stages[-1].out_columns
    assert len(set(columns)) == len(columns), "the last stage leaves one bit per column"
    return sum(b << c for b, c in zip(heap, columns, strict=True))


@st.composite
def plans(draw, n_max=300):
    n = draw(st.integers(1, n_max))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    weights = draw(st.sampled_from(["variable", "random", "ones", "zeros", "sparse"]))
    w = {"variable": None, "random": rng.integers(0, 2, n), "ones": np.ones(n, np.uint8),
         "zeros": np.zeros(n, np.uint8), "sparse": (rng.random(n) < 0.15).astype(np.uint8)}[weights]
    return CompressorTreePlan(n, w, draw(st.sampled_from(sorted(TARGETS))), draw(st.integers(0, 3)))


@settings(max_examples=150, deadline=None)
@given(plan=plans(), seed=st.integers(0, 2**16))
def test_schedule_counts(plan, seed):
    rng = np.random.default_rng(seed)
    for _ in range(4):
        x = rng.integers(0, 2, plan.n)
        w = rng.integers(0, 2, plan.n) if plan.variable else plan.weights
        assert evaluate(plan, x, w) == int(np.sum(x == w))


@settings(max_examples=150, deadline=None)
@given(plan=plans())
def test_schedule_fits_the_family(plan):
    """Each compressor takes every bit of the heap once, fits the family's LUTs, and keeps a carry
    chain's raw row narrower than its B row (so Yosys makes the raw row the chain's DI)."""
    L = plan.target.lut_inputs
    for d, stage in enumerate(plan.stages):
        used = [i for c in stage.counters for _, i in c.inputs]
        used += [i for seg in stage.segments for i in seg.inputs] + list(stage.passthrough)
        assert sorted(used) == list(range(len(stage.in_columns))), f"stage {d} takes each bit once"
        kinds = stage.in_kinds
        assert d == 0 or set(kinds) == {WIRE}, "only the lanes are not wires"
        assert all(kinds[i] == WIRE for i in stage.passthrough)
        for c in stage.counters:
            assert sum(2 if kinds[i] == LANE else 1 for _, i in c.inputs) <= L
            assert all(stage.in_columns[i] == c.column + off for off, i in c.inputs)
        for seg in stage.segments:
            assert all(kinds[i] != LANE for i in seg.inputs), "lanes enter LUT counters only"
            for p, (a, b) in enumerate(zip(seg.a, seg.b, strict=True)):
                for i in (a, b):
                    assert i is None or stage.in_columns[i] == seg.column + p
            for g in seg.groups:
                assert len(g.inputs) <= L - 1 and all(stage.in_columns[i] == seg.column + g.position for i in g.inputs)
                raw_top = max((p for p, a in enumerate(seg.a) if a is not None), default=-1)
                b_top = max([g.position + g.width - 1] + [p for p, b in enumerate(seg.b) if b is not None])
                assert raw_top < b_top
        if stage.final:  # only a closing register may follow the final adder
            assert all(not s.counters and not s.chains for s in plan.stages[d + 1:])
    if plan.stages:
        assert max(plan.stages[-1].out_columns) < plan.out_width
    assert plan.latency == sum(s.registered for s in plan.stages)
    if plan.reg_every:
        stages = sum(bool(s.counters or s.chains) for s in plan.stages)
        first = int(plan.variable and plan.target.register_lanes and stages > 1)
        assert plan.latency == first + -(-(stages - first) // plan.reg_every)


@settings(max_examples=40, deadline=None)
@given(plan=plans(n_max=120))
def test_plan_states_the_registers_of_its_component(plan):
    assert counts(CompressorTree(plan))["register_bits"] == plan.register_bits


@pytest.mark.parametrize("reg_every", [0, 1, 2])
@pytest.mark.parametrize("variable", [False, True])
def test_tree_style_is_the_adder_tree(variable, reg_every):
    w = None if variable else np.random.default_rng(0).integers(0, 2, 50)
    plan = CompressorTreePlan(50, w, reg_every=reg_every, style="tree")
    assert plan.style is PopcountStyle.TREE and plan.stages == ()
    assert (plan.latency, plan.register_bits, plan.out_width) == (plan.tree.latency, plan.tree.register_bits, 6)
    assert counts(CompressorTree(plan))["register_bits"] == plan.register_bits


def test_inverted_lanes_fold_into_lut_functions():
    """With constant weights the inversions sit in groups and counters; the raw operands (a
    chain's DI and carry-in) take lanes of weight 1, so no inverter is spent while there are enough."""
    w = np.random.default_rng(3).integers(0, 2, 144)
    first = CompressorTreePlan(144, w, "xc7").stages[0]
    raw = [i for seg in first.segments for i in (*seg.a, seg.cin) if i is not None]
    assert raw and all(first.in_kinds[i] == WIRE for i in raw)
    assert not [c for c in first.counters if len(c.inputs) == 1]


@pytest.mark.parametrize(("family", "mode", "bound"), [
    # the targets, with margin left for a unit's control (predicted LUTs per lane)
    ("xc7", "constant", 0.75), ("xc7", "variable", 1.55),
    ("ecp5", "constant", 0.45), ("ecp5", "variable", 1.05),
])
@pytest.mark.parametrize("n", [144, 288, 576, 1024, 4096])
def test_predicted_luts_per_lane(family, mode, bound, n):
    w = np.random.default_rng(n).integers(0, 2, n) if mode == "constant" else None
    plan = CompressorTreePlan(n, w, family)
    assert plan.luts / n <= bound


def test_shapes_and_features():
    plan = CompressorTreePlan(144, np.random.default_rng(1).integers(0, 2, 144), "xc7")
    shapes = plan.shapes
    assert shapes["+(7;3)"] >= 20 and all(k.startswith("+") for k in shapes)
    assert plan.final_adder_bits == plan.out_width - 1 or plan.final_adder_bits == plan.out_width
    assert plan.carry_cells >= sum(shapes.values())
    var = CompressorTreePlan(144, None, "xc7")
    assert var.shapes["3:2"] == 48  # three lanes (six inputs) per LUT6 pair


def test_targets_agree_with_the_families():
    for name, t in TARGETS.items():
        assert t.lut_inputs == FAMILIES[name].lut_inputs


def test_schedules_are_quick():
    import time

    t0 = time.perf_counter()
    for fam in TARGETS:
        assert CompressorTreePlan(4096, None, fam).stages
        assert CompressorTreePlan(4096, np.random.default_rng(0).integers(0, 2, 4096), fam).stages
    assert time.perf_counter() - t0 < 5


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(n=0), r"^CompressorTree needs at least one lane, not 0$"),
    (dict(n=True), r"^CompressorTree needs at least one lane, not True$"),
    (dict(n=4, weights=np.ones(3)), r"^CompressorTree weights must be None \(a variable weight input\) or 4 bits "
                                    r"\(0 or 1\), not an array of shape \(3,\)$"),
    (dict(n=2, weights=np.array([0, 2])), r"^CompressorTree weights must be None \(a variable weight input\) or 2 "
                                          r"bits \(0 or 1\), not an array of shape \(2,\)$"),
    (dict(n=2, family="virtex"), r"^CompressorTree family must be one of xc7, ecp5, ice40, not 'virtex'$"),
    (dict(n=2, reg_every=-1), r"^CompressorTree reg_every must be a non-negative integer, not -1$"),
    (dict(n=2, style="wallace"), r"^CompressorTree style must be 'tree' or 'compressor', not 'wallace'$"),
])
def test_rejects_bad_arguments(kwargs, message):
    with pytest.raises(BitfoldError, match=message):
        CompressorTreePlan(**kwargs)


def test_lane_kinds():
    plan = CompressorTreePlan(3, np.array([1, 0, 1]))
    assert plan.lane_kinds == (WIRE, INV, WIRE) and not plan.variable
    assert Counter(CompressorTreePlan(5).lane_kinds) == {LANE: 5}


@pytest.mark.synth
@pytest.mark.parametrize(("family", "n", "variable", "reg_every"), [
    ("xc7", 96, False, 2), ("xc7", 48, True, 2), ("ecp5", 96, True, 2), ("ice40", 64, False, 1),
])
def test_yosys_maps_the_schedule_as_predicted(family, n, variable, reg_every, tmp_path):
    """The plan's LUT count is what Yosys 0.70 makes of the component (measured equal on these;
    5% allowed for another ABC), and its registers and carry cells are Yosys's."""
    from amaranth.back import verilog

    from hw.synth import synthesize

    plan = CompressorTreePlan(n, None if variable else np.random.default_rng(n).integers(0, 2, n), family,
                              reg_every)
    r = synthesize(verilog.convert(CompressorTree(plan), name="top", emit_src=False), "top", family, tmp_path)
    assert abs(r["lut"] - plan.luts) <= 0.05 * plan.luts, (r["lut"], plan.luts)
    assert (r["ff"], r["carry"]) == (plan.register_bits, plan.carry_cells)
