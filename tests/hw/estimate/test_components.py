import numpy as np
import pytest

from hw.compile import FoldAuto, compile_graph
from hw.estimate import estimate, estimate_units, load_calibration
from hw.estimate.components import bram_units, tree_adder_bits
from hw.families import FAMILIES
from hw.synth.regression import DESIGNS, build
from hw.synthetic import synthetic_graph


def test_bram_units_pick_the_best_shape():
    xc7 = FAMILIES["xc7"]
    assert bram_units(896, 56, xc7) == 4  # 1024 x 18 three-wide... or 512 x 36 twice deep: four either way
    assert bram_units(72, 128, xc7) == 4  # 512 x 36: four side by side
    assert bram_units(16384, 1, xc7) == 1
    assert bram_units(200, 600, FAMILIES["ice40"]) == 38  # 256 x 16


@pytest.mark.parametrize(("depth", "width", "read_only", "family", "units"), [
    # counts Yosys 0.70 gives (the same on xc7 and ECP5): depth slices share a unit's width
    (3136, 64, True, "xc7", 13),  # seven 512-deep slices x 64 bits = 448 bits over 36-bit units
    (3072, 64, True, "ecp5", 11),
    (5000, 20, True, "xc7", 6),
    (4500, 3, True, "ecp5", 1),  # three 2048-deep slices x 3 bits side by side in one 2048 x 9
    (700, 10, True, "ice40", 2),
    (3100, 40, False, "xc7", 9),  # writable: 9-bit lanes, 7 slices x 5 lanes over 4 lanes a unit
    (5000, 20, False, "ecp5", 8),
    (4500, 3, False, "xc7", 2),  # 4096 x 4 has one write enable: a slice a unit
    (3100, 40, False, "ice40", 33),  # 256 x 16 with a bit mask
])
def test_bram_units_match_yosys_packing(depth, width, read_only, family, units):
    assert bram_units(depth, width, FAMILIES[family], read_only=read_only) == units


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
    _, stages = build(name)
    for fam in ("xc7", "ecp5"):
        e = estimate_units([s.unit for s in stages], fam)
        assert e["lut"] >= 0 and e["ff"] > 0


def test_estimate_per_layer_sums_to_total():
    g = synthetic_graph([("conv", 8, 3, 1, 0), ("pool", 2), ("dense", 16)], in_shape=(1, 10, 10))
    est = estimate(compile_graph(g, FoldAuto(300)).plan, "ecp5")
    for k in ("lut", "ff", "bram"):
        assert est["total"][k] == sum(v[k] for v in est["layers"].values())


def test_or_table_and_rom_columns():
    from hw.estimate.components import or_luts
    from hw.plan import MVTUPlan, ThresholdOut

    xc7 = FAMILIES["xc7"]
    tables = {"or_luts": {"xc7": {"2": 1.0, "4": 1.0, "16": 5.0}}}
    assert or_luts(4, xc7, tables) == 1.0 and or_luts(10, xc7, tables) == 3.0 and or_luts(28, xc7, tables) == 9.0
    assert or_luts(9, xc7) == 2.0  # no table: a balanced tree of LUT6
    # 4 words x 4 columns: column 0 constant, 1 = address bit 0, 2 = its complement, 3 = a real table
    table = np.array([[0, 0, 1, 0], [0, 1, 0, 1], [0, 0, 1, 1], [0, 1, 0, 0]], np.uint8)  # rows: words
    plan = MVTUPlan("fc", table.reshape(16, 1), 4, 1, ThresholdOut(np.zeros(16), np.ones(16)), mode="constant")
    assert plan.weight_style == "logic" and plan.table_columns == 1


@pytest.mark.parametrize("family", ["xc7", "ecp5", "ice40"])
@pytest.mark.parametrize("variable", [False, True])
def test_popcount_features_sum_to_the_plans_luts(family, variable):
    from hw.estimate.components import popcount_features
    from hw.plan.popcount import CompressorTreePlan

    w = None if variable else np.random.default_rng(2).integers(0, 2, 300)
    plan = CompressorTreePlan(300, w, family)
    f = popcount_features(plan, FAMILIES[family])
    assert sum(f.values()) == plan.luts and set(f) <= {"lanes", "counters", "chain", "final"}
    assert ("lanes" in f) == variable
    tree = popcount_features(CompressorTreePlan(300, w, family, style="tree"), FAMILIES[family])
    assert tree == {"xnor": 300.0 if variable else 0.0, "tree": float(tree_adder_bits(300, 1))}
    other = "ecp5" if family == "xc7" else "xc7"
    with pytest.raises(ValueError, match=rf"^a compressor tree scheduled for {family} cannot be priced for {other}$"):
        popcount_features(plan, FAMILIES[other])


def test_a_design_is_priced_as_if_compiled_for_the_family_estimated():
    """The weight table folds its XNOR on xc7 only: a design compiled for xc7 and estimated for ECP5
    costs what the same folding compiled for ECP5 costs, and the other way round."""
    from hw.compile import FoldExplicit
    from hw.plan import MVTUPlan, Popcount

    g = synthetic_graph([("dense", 64), ("dense", 64)], in_shape=(1, 16, 16), in_bits=1)
    on = {"xc7": compile_graph(g, FoldAuto(64), popcount=Popcount(family="xc7"))}
    on["ecp5"] = compile_graph(g, FoldExplicit(on["xc7"].folding), popcount=Popcount(family="ecp5"))

    def tables(fam):
        return [s.unit.table_xnor for s in on[fam].plan.stages if isinstance(s.unit, MVTUPlan)]

    assert any(tables("xc7"))
    assert not any(tables("ecp5"))
    for fam in ("xc7", "ecp5"):
        assert estimate(on["xc7"].plan, fam) == estimate(on["ecp5"].plan, fam)
