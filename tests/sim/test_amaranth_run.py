"""The Amaranth-simulator runners of sim/amaranth_run.py: ``trace_axis`` (the AXI4-Stream top under
random stalls, every handshake recorded) on random nets."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hw.ir import interp
from hw.plan import plan_graph
from hw.plan.interface import axis_plan
from hw.rtl.axis import AxisTop
from hw.rtl.build import dataflow
from nets import folded_net, random_codes
from sim.amaranth_run import AXIS_SIGNALS, trace_axis
from sim.stream import Gaps

pytestmark = pytest.mark.amaranth_sim


@settings(max_examples=4, deadline=None)
@given(seed=st.integers(0, 2**16), cut=st.integers(1, 3))
def test_trace_axis_records_every_handshake_and_flags_the_short_image(seed, cut):
    g = folded_net(seed % 7 + 40, target=300, in_bits=8, convs=((3, 1, 0),))
    plan = plan_graph(g)
    ap = axis_plan(plan)
    codes = random_codes(g, 3, seed)
    images = [plan.input.beats_of(v) for v in plan.input.images(codes)]
    images[1] = images[1][:-cut] or images[1][:1]
    results, trace = trace_axis(AxisTop(dataflow(plan), ap), images, Gaps(0.3, seed), Gaps(0.3, seed + 1))
    assert set(trace) == set(AXIS_SIGNALS) and len({len(v) for v in trace.values()}) == 1
    moved = sum(v & r for v, r in zip(trace["s_axis_tvalid"], trace["s_axis_tready"], strict=True))
    assert moved == sum(len(b) for b in images)
    assert sum(v & r & t for v, r, t in zip(trace["m_axis_tvalid"], trace["m_axis_tready"], trace["m_axis_tlast"],
                                            strict=True)) == 3
    assert [r >> ap.error_bit for r in results] == [0, 1, 0]
    ref = interp.run(g, codes, from_codes=True)
    mask = (1 << plan.output.beat_bits) - 1
    for k in (0, 2):
        assert plan.output.decode(results[k] & mask)[1] == ref[k].tolist()
