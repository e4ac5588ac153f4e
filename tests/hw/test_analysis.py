import numpy as np
import pytest

from hw.plan import plan_graph
from nets import folded_net, random_codes, simulate

pytestmark = pytest.mark.amaranth_sim


@pytest.mark.parametrize("seed,kw,target", [
    (0, dict(in_bits=8, convs=((3, 1, 0),)), 200),
    (1, dict(in_bits=1, convs=((3, 1, 1), (3, 2, 0))), 150),
    (2, dict(in_bits=8, convs=((3, 1, 0), (3, 1, 0)), pool=0), 500),
    (3, dict(in_bits=1, convs=(), pool=0, dense=(32,)), 64),
])
def test_measured_cycles_per_image_and_latency_match_the_model(seed, kw, target):
    g = folded_net(seed, target=target, **kw)
    plan = plan_graph(g)
    codes = random_codes(g, 8, seed)
    cycles = []
    (cls, scores), (ref_cls, ref) = simulate(g, codes, gap=0.0, cycles=cycles)
    assert np.array_equal(scores, ref)
    steady = np.diff(cycles)[-3:]
    assert np.all(steady == plan.cycles_per_image), (steady, plan.layer_cycles)
    # first result: sampled one edge after it became valid; the input's first beat went in at edge 1
    assert abs((cycles[0] - 2) - plan.latency) <= 0.02 * plan.latency + 2
