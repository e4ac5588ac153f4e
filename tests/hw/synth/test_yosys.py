"""Yosys and nextpnr on small designs (the CI-sized part of the synthesis regression)."""

import pytest

from hw.errors import BitfoldError
from hw.estimate import estimate_units
from hw.synth import FAMILIES, place_and_route, synthesize, yosys_version
from hw.synth.baselines import load_baseline
from hw.synth.nextpnr import where
from hw.synth.regression import design_verilog
from hw.synth.yosys import count_cells

SMALL = ["skid-256", "argmax-26x14", "mvtu-int4s-logic-36x8-p2s12", "fifo-16x677-block", "or-16x32"]


def test_every_memory_cell_of_xc7_has_its_lut_count():
    fam = FAMILIES["xc7"]
    assert set(fam.lutram_cells) | set(fam.srl_cells) == set(fam.memory_luts)
    assert all(isinstance(n, int) and n >= 1 for n in fam.memory_luts.values())


def test_cell_counting_per_family():
    cells = {"LUT6": 10, "LUT2": 3, "INV": 1, "FDRE": 7, "FDSE": 1, "CARRY4": 2, "MUXF7": 4, "RAMB36E1": 2,
             "RAMB18E1": 1, "SRLC32E": 5, "RAM64M": 3, "DSP48E1": 1}
    assert count_cells(cells, FAMILIES["xc7"]) == {"lut": 14, "lut_sites": 14 + 5 + 3 * 4, "ff": 8, "carry": 2,
                                                   "mux": 4, "lutram": 3, "srl": 5, "bram": 5, "dsp": 1}
    assert count_cells({"LUT4": 9, "TRELLIS_FF": 4, "CCU2C": 2, "PFUMX": 1, "DP16KD": 2, "TRELLIS_DPR16X4": 3},
                       FAMILIES["ecp5"])["bram"] == 2
    assert count_cells({"SB_LUT4": 5, "SB_DFFE": 3, "SB_RAM40_4K": 4}, FAMILIES["ice40"])["ff"] == 3


@pytest.mark.synth
@pytest.mark.parametrize("family", ["xc7", "ecp5"])
@pytest.mark.parametrize("name", SMALL)
def test_synthesis_matches_baseline_and_estimate(name, family, tmp_path):
    kind, stages, top, text = design_verilog(name, family)
    r = synthesize(text, top, family, tmp_path)
    assert r["yosys"] == yosys_version() and r["lut"] > 0
    base = load_baseline(r["yosys"])
    if base is not None:  # same Yosys version: the same counts
        b = base["families"][family][name]
        assert (r["lut"], r["ff"], r["bram"]) == (b["lut"], b["ff"], b["bram"])
    est = estimate_units([s.unit for s in stages], family)
    assert est["bram"] == r["bram"]
    if r["lut"] >= 100:
        assert abs(est["lut"] - r["lut"]) <= 0.15 * r["lut"], (est, r)
    assert abs(est["ff"] - r["ff"]) <= 0.5 * r["ff"] + 16  # structural count: a sanity bound


@pytest.mark.synth
def test_place_and_route_and_the_design_that_does_not_fit(tmp_path):
    _, _, top, text = design_verilog("argmax-10x8")
    r = synthesize(text, top, "ecp5", tmp_path, netlist=True)
    p = place_and_route(r["netlist"], "ecp5", "25k", tmp_path)
    assert p["fmax_mhz"] > 20 and p["device"] == "25k"
    cp = p["critical_path"]  # the slowest register-to-register path, in the design's own names
    assert abs(1000 / cp["delay_ns"] - p["fmax_mhz"]) <= 0.02 * p["fmax_mhz"]
    assert cp["delay_ns"] == pytest.approx(cp["logic_ns"] + cp["routing_ns"], abs=1e-3)
    assert cp["from"].startswith("dut.") and cp["to"].startswith("dut.")
    assert where(cp["to"], {"dut": "argmax"}) == {"stage": "dut", "layer": "argmax"}
    _, _, top, text = design_verilog("skid-1024")  # 2,050 flip-flops, 2,000+ I/O: not an hx1k design
    r = synthesize(text, top, "ice40", tmp_path, netlist=True)
    with pytest.raises(BitfoldError, match=r"^the design does not fit ice40 hx1k: it needs ICESTORM_LC \d+ of 1280, "
                                           r"SB_IO \d+ of 96 .*try a larger --device"):
        place_and_route(r["netlist"], "ice40", "hx1k", tmp_path)


@pytest.mark.synth
def test_yosys_failure_shows_the_log(tmp_path):
    with pytest.raises(BitfoldError, match=r"^Yosys failed to synthesize broken for xc7 \(full log: .*yosys.log\):"):
        synthesize("module broken(input a; endmodule", "broken", "xc7", tmp_path)


def test_unknown_family():
    with pytest.raises(BitfoldError, match=r"^unknown FPGA family 'virtex2'; supported: xc7, ice40, ecp5$"):
        synthesize("", "x", "virtex2", "/tmp")


@pytest.mark.synth
def test_ice40_maps_what_the_rtl_asks_as_distributed_ram(tmp_path):
    """iCE40 has no LUT RAM: a small FIFO marked ram_style="distributed" is left to Yosys (block RAM)
    instead of failing to map."""
    _, _, top, text = design_verilog("fifo-32x65-distributed")
    assert 'ram_style = "distributed"' in text
    r = synthesize(text, top, "ice40", tmp_path)
    assert r["bram"] >= 1 and r["lut"] < 200


@pytest.mark.synth
@pytest.mark.parametrize("family", ["xc7", "ecp5"])
def test_copies_of_the_chunk_register_survive_synthesis(family, tmp_path):
    """The copies of an MVTU's chunk register carry ``keep``; synthesis keeps them apart (without
    the mark Yosys merges them into one register again)."""
    import re

    import numpy as np
    from amaranth.back import verilog

    from hw.plan import MVTUPlan, Popcount, Stage, ThresholdOut
    from hw.rtl.build import dataflow

    rng = np.random.default_rng(0)
    plan = MVTUPlan("mvtu", rng.integers(0, 2, (16, 32), dtype=np.uint8), 16, 16,
                    ThresholdOut(rng.integers(0, 17, 16), np.ones(16)), popcount=Popcount(family=family))
    assert plan.chunk_copies == 2 and plan.chunk_bits == 16
    text = verilog.convert(dataflow((Stage("dut", plan),)), name="copies", emit_src=False)
    kept = synthesize(text, "copies", family, tmp_path)
    merged = synthesize(re.sub(r"\(\* keep = 32'd1 \*\)", "", text), "copies", family, tmp_path)
    assert kept["ff"] - merged["ff"] >= (plan.chunk_copies - 1) * plan.chunk_bits


@pytest.mark.synth
def test_a_sliding_window_keeps_its_enable_copies_and_counts_every_register(tmp_path):
    """A wide line buffer is enabled in slices, each from its own copies of the border, emit and
    valid flags: on ECP5 (no shift-register cells) the synthesized flip-flops are exactly the plan's
    ``register_bits``, the copies included."""
    from amaranth.back import verilog

    from hw.plan.window import WindowPlan
    from hw.rtl.sliding_window import SlidingWindow

    plan = WindowPlan("swg", 32, 1, 12, 12, (3, 3), (1, 1), (1, 1, 1, 1), 0)
    assert plan.enable_copies == 11
    text = verilog.convert(SlidingWindow(plan), name="swg", emit_src=False)
    assert synthesize(text, "swg", "ecp5", tmp_path)["ff"] == plan.register_bits


@pytest.mark.synth
def test_xc7_maps_a_line_buffer_to_the_shift_registers_the_estimate_counts(tmp_path):
    """The line buffer has no reset and each lane shifts under one enable, so on xc7 Yosys maps
    the runs between taps to SRL cells: as many as the estimator counts."""
    from amaranth.back import verilog

    from hw.plan.window import WindowPlan
    from hw.rtl.sliding_window import SlidingWindow

    plan = WindowPlan("swg", 16, 1, 28, 28, (3, 3), (1, 1), (0, 0, 0, 0), 0)
    text = verilog.convert(SlidingWindow(plan), name="swg", emit_src=False)
    got = synthesize(text, "swg", "xc7", tmp_path)
    assert got["srl"] == estimate_units([plan], "xc7")["srl"] > 0
    assert got["ff"] < plan.register_bits // 3
