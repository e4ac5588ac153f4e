"""The default design point (``hw.compile.default_target``)."""

from hw.compile import FoldAuto, compile_graph, default_target
from hw.estimate import estimate
from hw.synthetic import synthetic_graph


def test_the_default_design_point_fits_its_budget_past_targets_the_folding_overshoots():
    """512 outputs per layer: every target from 64 to 127 folds to the 64-cycle design (22,272
    LUT6 by the estimate). The search steps about 1.4x past them to the 128-cycle design that fits
    20,000 LUTs; stepping one cycle at a time from the overshooting design ran out of tries on
    ``lfc`` and returned a design twice the budget."""
    g = synthetic_graph([("dense", 512), ("dense", 512)], in_shape=(1, 16, 16), in_bits=1, seed=0)
    fits = {t: estimate(compile_graph(g, FoldAuto(t)).plan, "xc7")["total"]["lut"] for t in (64, 127, 128)}
    assert fits[64] == fits[127] > 20_000 >= fits[128]
    target = default_target(g, budget=20_000)
    plan = compile_graph(g, FoldAuto(target)).plan
    assert plan.cycles_per_image == 128
    assert estimate(plan, "xc7")["total"]["lut"] <= 20_000


def test_the_default_design_point_fits_its_block_ram_budget():
    """Weights move to block RAM as the layers fold (256 outputs per layer: none at 64 cycles per
    image, 30 blocks at 128, 16 at 256): the default design point must fit the board's block RAM
    too, not only its LUTs (``lfc``'s LUT-only default needed 324 DP16KD of an ECP5-85F's 208)."""
    g = synthetic_graph([("dense", 256), ("dense", 256)], in_shape=(1, 16, 16), in_bits=1, seed=0)
    luts_only = compile_graph(g, FoldAuto(default_target(g, budget=4_000, bram_budget=10**6))).plan
    both = compile_graph(g, FoldAuto(default_target(g, budget=4_000, bram_budget=20))).plan
    assert estimate(luts_only, "xc7")["total"]["bram"] > 20
    fit = estimate(both, "xc7")["total"]
    assert fit["bram"] <= 20 and fit["lut"] <= 4_000
    assert luts_only.cycles_per_image < both.cycles_per_image
