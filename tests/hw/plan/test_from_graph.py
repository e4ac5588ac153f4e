import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hw.errors import BitfoldError
from hw.ir.graph import FloatOps, TensorType
from hw.plan import hw_thresholds, plan_graph
from nets import folded_net, random_codes, simulate

pytestmark = pytest.mark.amaranth_sim

SHAPES = [
    dict(in_bits=8, convs=((3, 1, 0),)),
    dict(in_bits=1, convs=((3, 1, 1), (3, 2, 0))),
    dict(in_bits=4, convs=((2, 1, 0),), signed_input=True),
    dict(in_bits=1, convs=(), pool=0, dense=(16, 8)),
    dict(in_bits=3, convs=((1, 1, 0), (3, 1, 1)), pool=2, dense=()),
]


@pytest.mark.parametrize("layers,in_bits", [
    ([("jet", 6), ("conv", 4, 3, 1, 0), ("pool", 2), ("dense", 8)], 8),
    ([("conv", 3, 3, 1, 1), ("jet", 5), ("dense", 8)], 1),
])
@pytest.mark.parametrize("target", [150, 400])
def test_jet_networks_equal_reference(layers, in_bits, target):
    from hw.passes import hardware_pipeline, run_pipeline, to_hwc
    from hw.plan import auto_folding
    from hw.synthetic import synthetic_graph

    g = synthetic_graph(layers, in_shape=(1, 10, 10), in_bits=in_bits, seed=target)
    hwg = run_pipeline(g, hardware_pipeline(auto_folding(to_hwc(g), target)))
    codes = random_codes(hwg, 4, target)
    (cls, scores), (ref_cls, ref) = simulate(hwg, codes, seed=target)
    assert np.array_equal(scores, ref) and np.array_equal(cls, ref_cls)


@settings(max_examples=12, deadline=None)
@given(shape=st.sampled_from(range(len(SHAPES))), target=st.sampled_from([None, 100, 400, 2000]),
       queues=st.sampled_from(["sized", "sized", "image", "skid", "none"]), seed=st.integers(0, 2**16))
def test_built_network_equals_reference(shape, target, queues, seed):
    from hw.passes import to_hwc
    from hw.plan import fastest
    from irgraphs import random_net

    kw = SHAPES[shape]
    floor = fastest(to_hwc(random_net(seed, **kw)))
    g = folded_net(seed, target=max(floor, target or floor), **kw)
    codes = random_codes(g, 3, seed)
    (cls, scores), (ref_cls, ref) = simulate(g, codes, seed=seed, queues=queues)
    assert np.array_equal(scores, ref)
    assert np.array_equal(cls, ref_cls)


def test_pe_simd_one_everywhere():
    from irgraphs import random_net

    g0 = random_net(7, in_bits=8, convs=((3, 1, 0),))
    ones = {n.name: {"pe": 1, "simd": 1} for n in g0.nodes if n.op in ("Conv", "Dense")}
    g = folded_net(7, folding=ones, in_bits=8, convs=((3, 1, 0),))
    (cls, scores), (ref_cls, ref) = simulate(g, random_codes(g, 2, 1))
    assert np.array_equal(scores, ref) and np.array_equal(cls, ref_cls)


def test_threshold_conversion_to_popcount():
    k = 9
    t = np.array([-9, -8, -1, 0, 1, 9, 10])
    for d in (1, -1):
        p = hw_thresholds(t, np.full(len(t), d), k, binary=True)
        for dot_t, pop_t in zip(t, p, strict=True):
            for pop in range(k + 1):
                dot = 2 * pop - k
                assert (dot >= dot_t if d > 0 else dot <= dot_t) == (pop >= pop_t if d > 0 else pop <= pop_t)


def test_unsupported_nodes_are_named():
    g = folded_net(1, target=2000, in_bits=8, convs=((3, 1, 0),))
    nodes = list(g.nodes)
    i = next(j for j, n in enumerate(nodes) if n.op == "Threshold")
    nodes.insert(i, FloatOps("stray", TensorType(nodes[i - 1].out.shape, "float"), ops=()))
    with pytest.raises(BitfoldError, match=r"^IR node conv0: a Conv must be followed by a threshold or the scores"):
        plan_graph(g.replace(nodes))
    with pytest.raises(BitfoldError, match=r"^queue kind must be 'sized', 'image', 'skid', 'none', not 'huge'$"):
        plan_graph(g, "huge")
