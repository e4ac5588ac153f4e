"""Every unit plan states the facts of the component built from it: its register and memory bits
(counted in the elaborated netlist) and its latency (measured in the Amaranth simulator)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rtlcheck
from elaborated import counts
from hw.ir.schedule import Schedule
from hw.passes.fold import divisors
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
    Stage,
    ThresholdOut,
    WindowPlan,
)
from hw.plan.popcount import TARGETS, Popcount
from hw.rtl.build import component, dataflow
from hw.synth.regression import DESIGNS, build
from sim.amaranth_run import run_stream


def check_storage(unit):
    got = counts(component(unit))
    assert (got["register_bits"], got["memory_bits"]) == (unit.register_bits, unit.memory_bits), type(unit).__name__


@st.composite
def units(draw):
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    kind = draw(st.sampled_from(["mvtu", "mvtu", "mst", "jet", "window", "or", "gather", "split", "fifo", "skid",
                                 "argmax"]))
    if kind == "mvtu":
        o, k = draw(st.integers(1, 12)), draw(st.integers(1, 40))
        in_bits = draw(st.sampled_from([0, 0, 2, 8]))
        w = rng.integers(0, 2, (o, k), dtype=np.uint8)
        out = (ScoreOut(1, rng.integers(-3, 4, o), 14) if draw(st.booleans())
               else ThresholdOut(rng.integers(0, k + 1, o), rng.choice([-1, 1], o)))
        chunk = draw(st.booleans())
        return MVTUPlan("mvtu", w, draw(st.sampled_from(divisors(o))), draw(st.sampled_from(divisors(k))), out,
                        in_bits=in_bits, in_signed=draw(st.booleans()) and in_bits > 1,
                        mode=draw(st.sampled_from(["memory", "constant"])), input="chunk" if chunk else "vector",
                        vectors=1 if chunk else draw(st.integers(1, 3)),
                        popcount=Popcount(family=draw(st.sampled_from(sorted(TARGETS)))))
    if kind == "mst":
        o, k = draw(st.integers(1, 12)), draw(st.integers(1, 40))
        w, parents, _, t, d, _ = rtlcheck.mst_case(rng, o, k, draw(st.sampled_from([None, 0, 1, 3])))
        return MSTPlan("mst", w, Schedule(parents), ThresholdOut(t, d), vectors=draw(st.integers(1, 2)))
    if kind == "jet":
        o, c = draw(st.integers(1, 8)), draw(st.integers(1, 3))
        in_bits = draw(st.sampled_from([0, 4, 8]))
        co, _, _, t, d = rtlcheck.jet_case(rng, o, c, in_bits, draw(st.booleans()))
        return JetPlan("jet", co, draw(st.sampled_from(divisors(o))), ThresholdOut(t, d), in_bits=in_bits,
                       vectors=draw(st.integers(1, 2)))
    if kind == "window":
        k, s = draw(st.integers(1, 3)), draw(st.integers(1, 2))
        h, w = draw(st.integers(k, 8)), draw(st.integers(k, 8))
        p = draw(st.sampled_from(divisors(w)))
        pad = draw(st.sampled_from([0, p]))
        ow = (w + 2 * pad - k) // s + 1
        ms = [m for m in divisors(ow) if (m * s) % p == 0]
        if not ms:
            p, pad, ms = 1, pad and 1, [1]
        return WindowPlan("swg", draw(st.integers(1, 4)), draw(st.sampled_from([1, 8])), h, w, (k, k), (s, s),
                          (pad,) * 4, in_pixels=p, windows=draw(st.sampled_from(ms)))
    if kind == "or":
        return OrPoolPlan(draw(st.integers(1, 9)), draw(st.integers(1, 16)), draw(st.integers(1, 3)))
    if kind == "gather":
        return GatherPlan(draw(st.integers(1, 12)), draw(st.integers(1, 9)))
    if kind == "split":
        return SplitPlan(draw(st.integers(1, 12)), draw(st.integers(2, 9)))
    if kind == "fifo":
        return FifoPlan(draw(st.integers(1, 40)), draw(st.integers(3, 300)))
    if kind == "skid":
        return SkidPlan(draw(st.integers(1, 40)))
    return ArgMaxPlan(draw(st.integers(1, 12)), draw(st.integers(2, 12)))


@settings(max_examples=60, deadline=None)
@given(unit=units())
def test_plan_states_the_storage_of_its_component(unit):
    check_storage(unit)


@pytest.mark.parametrize("name", [n for n, (kind, _) in DESIGNS.items() if kind != "Network"])
def test_regression_units_state_their_storage(name):
    check_storage(build(name)[1][0].unit)


@settings(max_examples=25, deadline=None)
@given(unit=units())
def test_plan_states_the_latency_of_its_component(unit):
    """Items offered from cycle 0 on, back to back, to an idle unit whose output is always ready:
    the result is offered ``latency`` cycles after the last item it needs, and the sink samples it
    at the end of that cycle (its ``cycles`` count edges)."""
    rng = np.random.default_rng(0)
    if isinstance(unit, WindowPlan):  # the walk takes one step per cycle; the last group ends at its step
        beats = rng.integers(0, 2**min(62, unit.i_width), unit.height * unit.width // unit.in_pixels).tolist()
        cycles = []
        run_stream(component(unit), beats, unit.groups, cycles=cycles)
        assert cycles[-1] == unit.ends[-1] + unit.latency + 1
        return
    n_in = unit.count if isinstance(unit, GatherPlan) else 1
    if isinstance(unit, MVTUPlan) and unit.input == "chunk":
        n_in = unit.sf
    beats = [int(v) for v in rng.integers(0, 2**min(62, unit.i_width), n_in)]
    cycles = []
    run_stream(component(unit), beats, unit.count if isinstance(unit, SplitPlan) else 1, cycles=cycles)
    assert cycles[0] == n_in - 1 + unit.latency + 1


def test_plan_of_a_network_states_its_storage():
    from hw.compile import FoldAuto, compile_graph
    from hw.synthetic import synthetic_graph

    g = synthetic_graph([("conv", 4, 3, 1, 1), ("pool", 2), ("dense", 8)], in_shape=(1, 8, 8), seed=3)
    plan = compile_graph(g, FoldAuto(200)).plan
    got = counts(dataflow(plan))
    assert got["register_bits"] == sum(layer.register_bits for layer in plan.layers)
    assert got["memory_bits"] == sum(layer.memory_bits for layer in plan.layers)
    assert all(isinstance(s, Stage) for s in plan.stages)
