import json

import numpy as np
import pytest

from hw.analysis import layer_cycles
from hw.errors import BitfoldError
from hw.passes import apply_folding, auto_folding, pack_weights, size_widths, to_hwc
from hw.passes.fold import fold_cost, read_fold_file
from hw.rtl.mvtu import divisors
from irgraphs import random_net


@pytest.fixture
def net():
    return to_hwc(random_net(3, in_bits=8, convs=((3, 1, 0),), dense=(12,)))


def test_auto_folding_meets_the_target_at_least_cost(net):
    for target in (100, 300, 1000):
        folding = auto_folding(net, target)
        g = apply_folding(net, folding)
        per_layer = layer_cycles(g)
        assert max(per_layer.values()) <= target
        # no cheaper folding of any layer meets the target
        for i, node in enumerate(net.nodes):
            if node.name not in folding:
                continue
            chosen = fold_cost(node, net.in_type(i), folding[node.name]["pe"], folding[node.name]["simd"])
            o, k = node.weights.shape[0], node.fan_in
            for pe in divisors(o):
                for simd in divisors(k):
                    if fold_cost(node, net.in_type(i), pe, simd) < chosen:
                        trial = dict(folding, **{node.name: {"pe": pe, "simd": simd}})
                        assert layer_cycles(apply_folding(net, trial))[node.name] > target


def test_auto_folding_reports_an_unreachable_target(net):
    with pytest.raises(BitfoldError, match=r"^target of 10 cycles per image cannot be met: the input alone "
                                           r"streams 64 beats per image; use --target-cycles 64 or more$"):
        auto_folding(net, 10)
    padded = to_hwc(random_net(3, in_bits=1, convs=((3, 1, 1),)))  # walks 10 x 10 padded pixels
    with pytest.raises(BitfoldError, match=r"^layer conv0: even fully parallel it needs 100 cycles per image, "
                                           r"more than the target of 64; use --target-cycles 100 or more$"):
        auto_folding(padded, 64)


def test_user_folding_errors_name_the_layer_and_valid_values(net):
    msg = r"^layer fc0: PE=5 does not divide its 12 outputs; valid PE: 1, 2, 3, 4, 6, 12$"
    with pytest.raises(BitfoldError, match=msg):
        apply_folding(net, {"conv0": {"pe": 1, "simd": 1}, "fc0": {"pe": 5, "simd": 1}, "fc1": {"pe": 1, "simd": 1}})
    with pytest.raises(BitfoldError, match=r"^folding names unknown layers conv9; layers: conv0, fc0, fc1$"):
        apply_folding(net, {"conv9": {"pe": 1, "simd": 1}})
    with pytest.raises(BitfoldError, match=r"^folding gives no PE/SIMD for layers fc1$"):
        apply_folding(net, {"conv0": {"pe": 1, "simd": 1}, "fc0": {"pe": 1, "simd": 1}})


def test_sizing_and_packing(net):
    g = pack_weights(size_widths(apply_folding(net, auto_folding(net, 300))))
    conv = g["conv0"]
    f = conv.folding
    assert f.in_bits == 8 and not f.in_signed
    assert f.acc_bits == (255 * conv.fan_in).bit_length() + 1
    assert f.mem_depth * f.mem_width == conv.weights.size
    fc = g["fc0"]
    assert fc.folding.in_bits == 0 and fc.folding.acc_bits == fc.fan_in.bit_length()


def test_fold_file(tmp_path):
    p = tmp_path / "fold.json"
    p.write_text(json.dumps({"conv0": {"pe": 2, "simd": 3, "mode": "constant"}}))
    assert read_fold_file(p) == {"conv0": {"pe": 2, "simd": 3, "mode": "constant"}}
    p.write_text(json.dumps({"conv0": {"pe": 2, "lanes": 3}}))
    with pytest.raises(BitfoldError, match=r"layer conv0: unknown keys lanes \(expected pe, simd, mode\)$"):
        read_fold_file(p)
    p.write_text("{")
    with pytest.raises(BitfoldError, match=r"not valid JSON"):
        read_fold_file(p)
    with pytest.raises(BitfoldError, match=r"no such folding file$"):
        read_fold_file(tmp_path / "none.json")


def test_to_hwc_preserves_the_function():
    from hw.ir import interp

    g = random_net(5, in_bits=1, convs=((3, 1, 0),), pool=2, dense=(10,))
    h = to_hwc(g)
    assert [n.order for n in h.nodes if n.op == "Flatten"] == ["hwc"]
    codes = np.random.default_rng(0).integers(0, 2, (50, 1, 8, 8))
    assert np.array_equal(interp.run(g, codes, from_codes=True), interp.run(h, codes, from_codes=True))
