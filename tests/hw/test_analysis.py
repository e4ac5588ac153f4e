import numpy as np
import pytest

from hw.plan import plan_graph
from nets import folded_net, random_codes, simulate

pytestmark = pytest.mark.amaranth_sim


@pytest.mark.parametrize("seed,kw,target", [
    (0, dict(in_bits=8, convs=((3, 1, 0),)), 200),
    (0, dict(in_bits=8, convs=((3, 1, 0),)), None),
    (1, dict(in_bits=1, convs=((3, 1, 1), (3, 2, 0))), 150),
    (1, dict(in_bits=1, convs=((3, 1, 1), (3, 2, 0))), None),
    (2, dict(in_bits=8, convs=((3, 1, 0), (3, 1, 0)), pool=0), 500),
    (2, dict(in_bits=8, convs=((3, 1, 0), (3, 1, 0)), pool=0), None),
    (3, dict(in_bits=1, convs=(), pool=0, dense=(32,)), 64),
    (3, dict(in_bits=1, convs=(), pool=0, dense=(32,)), None),
    (4, dict(in_bits=4, convs=((2, 1, 0),), signed_input=True), 300),
])
def test_measured_cycles_per_image_and_latency_match_the_model(seed, kw, target):
    from hw.passes import to_hwc
    from hw.plan import fastest
    from irgraphs import random_net

    g = folded_net(seed, target=target or fastest(to_hwc(random_net(seed, **kw))), **kw)
    plan = plan_graph(g)
    codes = random_codes(g, 8, seed)
    cycles = []
    (cls, scores), (ref_cls, ref) = simulate(g, codes, gap=0.0, cycles=cycles)
    assert np.array_equal(scores, ref)
    steady = np.diff(cycles)[-3:]
    assert np.all(steady == plan.cycles_per_image), (steady, plan.layer_cycles)
    # the first beat is offered in cycle 0; the first result, offered `latency` cycles later, is
    # sampled by the sink at the end of that cycle
    assert cycles[0] - 1 == plan.latency
