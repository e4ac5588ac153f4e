"""sim/pch.py: which compiles get the precompiled header, when it is made, and that anything else
passes through as make wrote it."""

import os
import stat

import pytest

from sim import pch

MAIN = "/x/cocotb/share/lib/verilator/verilator.cpp"
BASE = ["-I.", "-MMD", "-I/v/include", "-DVM_TRACE=0"]


def _fake_compiler(tmp_path, fail=False):
    """A compiler that writes its ``-o`` file and logs its arguments (or fails)."""
    exe = tmp_path / "fakecxx"
    exe.write_text("#!/bin/sh\n" + ("exit 1\n" if fail else
                   f'echo "$@" >> {tmp_path}/calls\nwhile [ "$1" ]; do [ "$1" = -o ] && : > "$2"; shift; done\n'))
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    return str(exe)


@pytest.mark.parametrize(("args", "source"), [
    ([*BASE, "-O0", "-c", "-o", "verilator.o", MAIN], MAIN),
    (["-O2", *BASE, "-c", "-o", "Vtop__ALL.o", "Vtop__ALL.cpp"], "Vtop__ALL.cpp"),
    (["-Os", *BASE, "-c", "-o", "verilated.o", "/v/include/verilated.cpp"], None),  # defines macros first
    (["-O2", *BASE, "-include", "Vtop__pch.h.fast", "-c", "Vtop__1.cpp"], None),  # Verilator's own header
    (["-O2", *BASE, "-x", "c++-header", "Vtop__pch.h", "-o", "Vtop__pch.h.fast.gch"], None),
    (["verilator.o", "Vtop__ALL.a", "-o", "top"], None),  # the link
])
def test_only_cocotbs_main_and_one_file_models_are_eligible(args, source):
    assert pch.eligible(args) == source


def test_the_effective_optimization_level_leads_the_options():
    opts, out = pch.canonical([*BASE, "-O0", "-c", "-o", "verilator.o", MAIN], MAIN)
    assert out == "verilator.o" and opts == ("-O0", *BASE)
    assert pch.canonical(["-O0", *BASE, "-O2", "-c", "-o", "a.o", "a__ALL.cpp"], "a__ALL.cpp")[0] == ("-O2", *BASE)


def test_the_header_is_made_the_second_time_its_options_are_asked_for(tmp_path):
    cxx, cache = _fake_compiler(tmp_path), tmp_path / "cache"
    args = [*BASE, "-O0", "-c", "-o", "verilator.o", MAIN]
    assert pch.command(cache, cxx, args) == [cxx, *args]  # once: not worth a header
    assert not (tmp_path / "calls").exists()
    cmd = pch.command(cache, cxx, args)
    header = cmd[cmd.index("-include") + 1]
    assert cmd == [cxx, "-O0", *BASE, "-include", header, "-c", "-o", "verilator.o", MAIN]
    assert open(header).read() == pch.HEADER and os.path.isfile(header + ".gch")
    (made,) = (tmp_path / "calls").read_text().splitlines()
    assert made.split() == ["-O0", *BASE, "-x", "c++-header", made.split()[-3], "-o", made.split()[-1]]
    # the one-file model at the same level (make puts -O first there) shares it; another level does not
    model = pch.command(cache, cxx, ["-O0", *BASE, "-c", "-o", "Vt__ALL.o", "Vt__ALL.cpp"])
    assert model[model.index("-include") + 1] == header
    assert "-include" not in pch.command(cache, cxx, ["-O2", *BASE, "-c", "-o", "Vt__ALL.o", "Vt__ALL.cpp"])


def test_a_header_that_does_not_compile_leaves_the_command_as_it_was(tmp_path):
    cxx, cache = _fake_compiler(tmp_path, fail=True), tmp_path / "cache"
    args = [*BASE, "-O1", "-c", "-o", "verilator.o", MAIN]
    assert pch.command(cache, cxx, args) == pch.command(cache, cxx, args) == [cxx, *args]
    assert not [p for p in cache.iterdir() if p.is_dir()]  # nothing half made is kept
