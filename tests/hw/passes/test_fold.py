import json

import numpy as np
import pytest

from hw.errors import BitfoldError
from hw.passes import apply_folding, to_hwc
from hw.passes.fold import read_fold_file
from irgraphs import random_net


@pytest.fixture
def net():
    return to_hwc(random_net(3, in_bits=8, convs=((3, 1, 0),), dense=(12,)))


def test_user_folding_errors_name_the_layer_and_valid_values(net):
    msg = r"^layer fc0: PE=5 does not divide its 12 outputs; valid PE: 1, 2, 3, 4, 6, 12$"
    with pytest.raises(BitfoldError, match=msg):
        apply_folding(net, {"conv0": {"pe": 1, "simd": 1}, "fc0": {"pe": 5, "simd": 1}, "fc1": {"pe": 1, "simd": 1}})
    with pytest.raises(BitfoldError, match=r"^folding names unknown layers conv9; layers: conv0, fc0, fc1$"):
        apply_folding(net, {"conv9": {"pe": 1, "simd": 1}})
    with pytest.raises(BitfoldError, match=r"^folding gives no PE/SIMD for layers fc1$"):
        apply_folding(net, {"conv0": {"pe": 1, "simd": 1}, "fc0": {"pe": 1, "simd": 1}})
    with pytest.raises(BitfoldError, match=r"^layer fc1: PE must be an integer, not '2'$"):
        apply_folding(net, {"conv0": {"pe": 1, "simd": 1}, "fc0": {"pe": 1, "simd": 1}, "fc1": {"pe": "2", "simd": 1}})
    with pytest.raises(BitfoldError, match=r"^layer fc1: weight mode must be 'memory' or 'constant', not 'rom'$"):
        apply_folding(net, {"conv0": {"pe": 1, "simd": 1}, "fc0": {"pe": 1, "simd": 1},
                            "fc1": {"pe": 1, "simd": 1, "mode": "rom"}})


def test_fold_file(tmp_path):
    p = tmp_path / "fold.json"
    p.write_text(json.dumps({"conv0": {"pe": 2, "simd": 3, "mode": "constant"}}))
    assert read_fold_file(p) == {"conv0": {"pe": 2, "simd": 3, "mode": "constant"}}
    p.write_text(json.dumps({"conv0": {"pe": "2", "simd": 3}}))
    with pytest.raises(BitfoldError, match=r"layer conv0: pe must be an integer, not '2'$"):
        read_fold_file(p)
    p.write_text(json.dumps({"conv0": {"pe": 2, "lanes": 3}}))
    with pytest.raises(BitfoldError, match=r"layer conv0: unknown keys lanes \(expected pe, simd, mode, windows\)$"):
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
