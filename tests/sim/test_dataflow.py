"""Whole built networks under Verilator through the per-beat cocotb driver."""

import pytest

from hw.ir import interp
from hw.plan import plan_graph
from hw.rtl.build import dataflow
from nets import folded_net, random_codes
from sim.components import run_component

pytestmark = pytest.mark.verilator


@pytest.mark.parametrize("seed,kw,target", [
    (11, dict(in_bits=8, convs=((3, 1, 0),)), 300),
    (12, dict(in_bits=1, convs=((3, 1, 1), (3, 2, 0)), dense=(8,)), 2000),
    (13, dict(in_bits=8, convs=((3, 1, 0),), pool=2, dense=(12,)), 36),  # two pixels a beat, two windows a cycle
])
def test_random_network_per_beat_driver(seed, kw, target, tmp_path):
    g = folded_net(seed, target=target, **kw)
    codes = random_codes(g, 5, seed)
    plan = plan_graph(g)
    inl, outl = plan.input, plan.output
    beats = [b for img in inl.images(codes) for b in inl.beats_of(img)]
    out = run_component(dataflow(plan), beats, len(codes), tmp_path, seed=seed)
    ref = interp.run(g, codes, from_codes=True)
    assert [outl.decode(b)[1] for b in out] == ref.tolist()
    assert [outl.decode(b)[0] for b in out] == interp.argmax(ref).tolist()
