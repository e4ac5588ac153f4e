import pytest

from hw.estimate import estimate_graph, estimate_stages, load_calibration
from hw.estimate.components import bram_units, tree_adder_bits
from hw.estimate.regression import DESIGNS, build
from hw.ir.synthetic import synthetic_graph
from hw.passes import auto_folding, hardware_pipeline, run_pipeline, to_hwc
from hw.synth import FAMILIES


def test_bram_units_pick_the_best_shape():
    xc7 = FAMILIES["xc7"]
    assert bram_units(896, 56, xc7) == 4  # 1024 x 18 three-wide... or 512 x 36 twice deep: four either way
    assert bram_units(72, 128, xc7) == 4  # 512 x 36: four side by side
    assert bram_units(16384, 1, xc7) == 1
    assert bram_units(200, 600, FAMILIES["ice40"]) == 38  # 256 x 16


def test_tree_adder_bits():
    assert tree_adder_bits(1, 1) == 0
    assert tree_adder_bits(2, 1) == 2
    assert tree_adder_bits(4, 1) == 2 * 2 + 3
    assert tree_adder_bits(3, 8) == 9 + 10


def test_calibration_covers_every_family_and_component():
    cal = load_calibration()
    assert set(cal["families"]) >= {"xc7", "ecp5"}
    assert cal["yosys"].startswith("Yosys")
    for fam in ("xc7", "ecp5"):
        kinds = {k.split(".")[0] for k in cal["families"][fam]["lut"]}
        assert kinds >= {"MVTU", "SkidBuffer", "ArgMax", "OrReduce"}


@pytest.mark.parametrize("name", [n for n in DESIGNS if not n.startswith("net-")][:12])
def test_every_component_has_an_estimate(name):
    _, stages, _ = build(name)
    for fam in ("xc7", "ecp5"):
        e = estimate_stages(stages, fam)
        assert e["lut"] >= 0 and e["ff"] > 0


def test_estimate_per_layer_sums_to_total():
    g = synthetic_graph([("conv", 8, 3, 1, 0), ("pool", 2), ("dense", 16)], in_shape=(1, 10, 10))
    hwg = run_pipeline(g, hardware_pipeline(auto_folding(to_hwc(g), 300)))
    est = estimate_graph(hwg, "ecp5")
    for k in ("lut", "ff", "bram"):
        assert est["total"][k] == sum(v[k] for v in est["layers"].values())
