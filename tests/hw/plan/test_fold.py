import pytest

from hw.errors import BitfoldError
from hw.passes import apply_folding, to_hwc
from hw.passes.fold import divisors
from hw.plan import auto_folding, plan_graph
from hw.plan.fold import fold_cost
from irgraphs import random_net


@pytest.fixture
def net():
    return to_hwc(random_net(3, in_bits=8, convs=((3, 1, 0),), dense=(12,)))


def test_auto_folding_meets_the_target_at_least_cost(net):
    for target in (40, 100, 300, 1000):
        folding = auto_folding(net, target)
        per_layer = plan_graph(apply_folding(net, folding)).layer_cycles
        assert max(per_layer.values()) <= target
        # no cheaper folding of any layer meets the target at its windows per cycle
        for i, node in enumerate(net.nodes):
            if node.name not in folding:
                continue
            f = folding[node.name]
            chosen = fold_cost(node, net.in_type(i), f["pe"], f["simd"])
            o, k = node.weights.shape[0], node.fan_in
            for pe in divisors(o):
                for simd in divisors(k):
                    if fold_cost(node, net.in_type(i), pe, simd) < chosen:
                        trial = dict(folding, **{node.name: {"pe": pe, "simd": simd, "windows": f["windows"]}})
                        assert plan_graph(apply_folding(net, trial)).layer_cycles[node.name] > target
    assert auto_folding(net, 40)["input"]["pixels"] == 2  # 64 pixels in 40 cycles: two per beat


def test_auto_folding_reports_an_unreachable_target(net):
    with pytest.raises(BitfoldError, match=r"^target of 5 cycles per image cannot be met: the input alone "
                                           r"streams 8 beats per image at its widest; use --target-cycles 8 or "
                                           r"more$"):
        auto_folding(net, 5)
    with pytest.raises(BitfoldError, match=r"^layer conv0: even fully parallel it needs 32 cycles per image, more "
                                           r"than the target of 10; use --target-cycles 32 or more$"):
        auto_folding(net, 10)
    with pytest.raises(BitfoldError, match=r"^target cycles must be a positive integer, not '100'$"):
        auto_folding(net, "100")
