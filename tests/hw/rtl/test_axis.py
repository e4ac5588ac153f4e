"""The AXI4-Stream top (hw/rtl/axis.py) around built networks under Verilator: images framed by
``tlast`` with random ``tvalid`` gaps and ``tready`` back-pressure, some of them too short or too
long; every result equals the reference's on the image the top fed to the network, the error bit
marks exactly the misframed images, and no image is lost or doubled."""

import numpy as np
import pytest

from hw.emit import emit_verilog, manifest
from hw.ir import interp
from hw.plan import plan_graph
from hw.plan.interface import AxisPlan, Interface, axis_plan
from nets import folded_net, random_codes
from sim.components import run_axis


def _keep_beats(layout, image_codes, kept):
    """``image_codes`` with every element after the first ``kept`` beats set to 0 (what the top
    feeds the network for an image cut short)."""
    if len(layout.shape) == 3:
        flat = image_codes.transpose(1, 2, 0).reshape(-1).copy()
    else:
        flat = image_codes.reshape(-1).copy()
    flat[kept * layout.pixels * layout.channels:] = 0
    if len(layout.shape) == 3:
        c, h, w = layout.shape
        return flat.reshape(h, w, c).transpose(2, 0, 1)
    return flat.reshape(layout.shape)


def test_axis_plan_pads_tdata_to_bytes_and_puts_the_error_bit_above_the_result():
    a = AxisPlan(beats=64, beat_bits=8, out_bits=94, flag_depth=5)
    assert (a.s_tdata_bits, a.m_tdata_bits, a.error_bit) == (8, 96, 94)
    a = AxisPlan(beats=1, beat_bits=9, out_bits=8, flag_depth=1)
    assert (a.s_tdata_bits, a.m_tdata_bits, a.error_bit) == (16, 16, 8)
    with pytest.raises(ValueError, match="positive sizes"):
        AxisPlan(beats=0, beat_bits=8, out_bits=8, flag_depth=2)


def test_axis_manifest_and_header_name_the_ports():
    g = folded_net(3, target=300, in_bits=8, convs=((3, 1, 0),))
    plan = plan_graph(g)
    man = manifest(plan, "net_a", Interface.AXIS)
    a = axis_plan(plan)
    assert man["interface"] == "axis" and man["axis"]["m_tdata_bits"] == a.m_tdata_bits
    assert man["port_names"]["i"] == ["s_axis_tdata", "s_axis_tvalid", "s_axis_tready", "s_axis_tlast"]
    text = emit_verilog(plan, "net_a", Interface.AXIS)
    assert text.startswith("// net_a: binarized neural network dataflow core")
    assert f"m_axis_tdata[{a.m_tdata_bits - 1}:0]" in text and f"error flag at bit {a.error_bit}" in text
    modules = [line.split()[1].split("(")[0] for line in text.splitlines() if line.startswith("module ")]
    assert modules[0] == "net_a" and all(m.lstrip("\\").startswith("net_a.") for m in modules[1:])
    assert "module net_a(" in text and "ap_rst_n" in text.split("module net_a(")[1].splitlines()[0]


def test_axis_top_of_a_whole_image_a_beat_has_no_zero_width_counter():
    """One beat an image (a fully parallel dense net): the top counts no beats, so no
    ``[-1:0]`` signal reaches the Verilog (lint's ASCRANGE)."""
    plan = plan_graph(folded_net(24, target=1, in_bits=1, convs=(), dense=(8,)))
    assert axis_plan(plan).beats == 1
    text = emit_verilog(plan, "one_beat", Interface.AXIS)
    assert "[-1:0]" not in text and "framing_state" in text


@pytest.mark.verilator
@pytest.mark.parametrize("seed,kw,target", [
    (21, dict(in_bits=8, convs=((3, 1, 0),)), 300),  # 8-bit pixels, one a beat
    (22, dict(in_bits=1, convs=((3, 1, 1),), dense=(8,)), 2000),  # binary input: 1-bit beats padded to a byte
    (23, dict(in_bits=8, convs=((3, 1, 0),), pool=2, dense=(12,)), 36),  # two pixels a beat
])
def test_axis_top_frames_images_by_tlast(seed, kw, target, tmp_path):
    g = folded_net(seed, target=target, **kw)
    plan = plan_graph(g)
    inl, outl, a = plan.input, plan.output, axis_plan(plan)
    n = inl.beats
    codes = random_codes(g, 14, seed)
    rng = np.random.default_rng(seed)
    beats, lasts, fed, flags = [], [], [], []
    for k, img in enumerate(inl.images(codes)):
        b = inl.beats_of(img)
        kind = ["ok", "short", "long"][k % 3] if k < 6 else rng.choice(["ok", "ok", "short", "long"])
        if kind == "short" and n > 1:
            m = int(rng.integers(1, n))
            beats += b[:m]
            lasts += [0] * (m - 1) + [1]
            fed.append(_keep_beats(inl, codes[k], m))
        elif kind == "long":
            junk = rng.integers(0, 2 ** inl.beat_bits, int(rng.integers(1, 4))).tolist()
            beats += b + junk
            lasts += [0] * (n + len(junk) - 1) + [1]
            fed.append(codes[k])
        else:
            kind = "ok"
            beats += b
            lasts += [0] * (n - 1) + [1]
            fed.append(codes[k])
        flags.append(int(kind != "ok"))
    assert 0 < sum(flags) < len(flags)
    text = emit_verilog(plan, "axis_dut", Interface.AXIS)
    out, out_lasts, extra = run_axis(text, "axis_dut", beats, lasts, len(codes), a.s_tdata_bits, a.m_tdata_bits,
                                     tmp_path, seed=seed)
    ref = interp.run(g, np.array(fed), from_codes=True)
    mask = (1 << outl.beat_bits) - 1
    assert [o >> a.error_bit for o in out] == flags  # the error bit, and 0 in the padding above it
    assert [outl.decode(o & mask)[1] for o in out] == ref.tolist()
    assert [outl.decode(o & mask)[0] for o in out] == interp.argmax(ref).tolist()
    assert out_lasts == [1] * len(codes) and not extra
