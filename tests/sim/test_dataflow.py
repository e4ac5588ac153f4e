"""Whole lowered networks under Verilator through the per-beat cocotb driver."""

import pytest

from hw.ir import interp
from hw.layout import input_layout, output_layout
from hw.lower import lower
from nets import folded_net, random_codes
from sim.components import run_component

pytestmark = pytest.mark.verilator


@pytest.mark.parametrize("seed,kw,target", [
    (11, dict(in_bits=8, convs=((3, 1, 0),)), 300),
    (12, dict(in_bits=1, convs=((3, 1, 1), (3, 2, 0)), dense=(8,)), 2000),
])
def test_random_network_per_beat_driver(seed, kw, target, tmp_path):
    g = folded_net(seed, target=target, **kw)
    codes = random_codes(g, 5, seed)
    inl, outl = input_layout(g), output_layout(g)
    beats = [b for img in inl.images(codes) for b in inl.beats_of(img)]
    out = run_component(lower(g).top, beats, len(codes), tmp_path, seed=seed)
    ref = interp.run(g, codes, from_codes=True)
    assert [outl.decode(b)[1] for b in out] == ref.tolist()
    assert [outl.decode(b)[0] for b in out] == interp.argmax(ref).tolist()
