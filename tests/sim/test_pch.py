"""sim/pch.py: which compiles get the precompiled header, when it is made, and that anything else
passes through as make wrote it."""

import os
import stat
from concurrent.futures import ThreadPoolExecutor

import pytest

from sim import pch

MAIN = "/x/cocotb/share/lib/verilator/verilator.cpp"
BASE = ["-I.", "-MMD", "-I/v/include", "-DVM_TRACE=0"]


def _fake_compiler(tmp_path, fail_header=False, fail_include=False, delay=0):
    """A compiler that logs its arguments and writes its ``-o`` file; ``fail_header``: it cannot
    make a header; ``fail_include``: it cannot use one."""
    exe = tmp_path / "fakecxx"
    exe.write_text(f"""#!/bin/sh
echo "$@" >> {tmp_path}/calls
sleep {delay}
case "$*" in
  *c++-header*) {"echo no header here >&2; exit 1" if fail_header else ":"} ;;
  *-include*) {"echo cannot read PCH file >&2; exit 1" if fail_include else ":"} ;;
esac
while [ "$1" ]; do [ "$1" = -o ] && : > "$2"; shift; done
""")
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


def test_the_header_is_made_when_a_second_build_folder_asks_for_its_options(tmp_path):
    cxx, cache = _fake_compiler(tmp_path), tmp_path / "cache"
    args = [*BASE, "-O0", "-c", "-o", "verilator.o", MAIN]
    model = ["-O0", *BASE, "-c", "-o", "Vt__ALL.o", "Vt__ALL.cpp"]  # the same options, -O first
    # the first build: its main and its model ask, neither gets a header
    assert pch.command(cache, cxx, args, "/b1") == ([cxx, *args], None)
    assert pch.command(cache, cxx, model, "/b1") == ([cxx, *model], None)
    assert not (tmp_path / "calls").exists()
    cmd, header = pch.command(cache, cxx, args, "/b2")
    assert cmd == [cxx, "-O0", *BASE, "-Winvalid-pch", "-include", str(header), "-c", "-o", "verilator.o", MAIN]
    assert header.read_text() == pch.HEADER and header.with_name(header.name + ".gch").is_file()
    (made,) = (tmp_path / "calls").read_text().splitlines()
    assert made.split() == ["-O0", *BASE, "-x", "c++-header", made.split()[-3], "-o", made.split()[-1]]
    assert pch.command(cache, cxx, model, "/b3")[1] == header  # shared by the one-file model
    assert pch.command(cache, cxx, ["-O2", *model[1:]], "/b3")[1] is None  # another level: its own


def test_builds_asking_at_once_make_one_header(tmp_path):
    cxx, cache = _fake_compiler(tmp_path, delay=0.5), tmp_path / "cache"
    args = [*BASE, "-O1", "-c", "-o", "verilator.o", MAIN]
    pch.command(cache, cxx, args, "/b0")
    with ThreadPoolExecutor(4) as pool:
        headers = list(pool.map(lambda k: pch.command(cache, cxx, args, f"/b{k}")[1], range(1, 5)))
    assert len(set(headers)) == 1 and headers[0] is not None
    assert len((tmp_path / "calls").read_text().splitlines()) == 1


def test_a_header_that_does_not_compile_is_recorded_and_not_tried_again(tmp_path):
    cxx, cache = _fake_compiler(tmp_path, fail_header=True), tmp_path / "cache"
    args = [*BASE, "-O1", "-c", "-o", "verilator.o", MAIN]
    for folder in ("/b1", "/b2", "/b3"):
        assert pch.command(cache, cxx, args, folder) == ([cxx, *args], None)
    (failed,) = cache.glob("*.failed")
    assert failed.read_text().startswith(" ".join([cxx, "-O1", *BASE])) and "no header here" in failed.read_text()
    assert len((tmp_path / "calls").read_text().splitlines()) == 1  # tried once
    assert not [p for p in cache.iterdir() if p.is_dir()]  # nothing half made is kept


def test_a_damaged_header_is_dropped_and_the_file_compiled_without_it(tmp_path, monkeypatch):
    cxx, cache = _fake_compiler(tmp_path, fail_include=True), tmp_path / "cache"
    args = [*BASE, "-O0", "-c", "-o", str(tmp_path / "verilator.o"), MAIN]
    pch.command(cache, cxx, args, "/b1")
    monkeypatch.chdir(tmp_path)
    assert pch.main([str(cache), cxx, *args]) == 0  # with the header: fails; without: compiles
    calls = (tmp_path / "calls").read_text().splitlines()
    assert "-include" in calls[-2] and calls[-1].split() == args
    assert not [p for p in cache.iterdir() if p.is_dir()]  # the header is gone, made again next time
    assert pch.main([]) == 2


def test_the_shim_steps_aside_for_the_users_objcache(monkeypatch, tmp_path):
    from sim import runner

    monkeypatch.setenv("BITFOLD_CACHE", str(tmp_path / "user"))
    monkeypatch.delenv("OBJCACHE", raising=False)
    if "Free Software Foundation" not in runner._compiler_id():
        assert runner._pch_shim() is None  # GCC only
        return
    shim = runner._pch_shim("-j2")
    assert shim.is_relative_to(tmp_path / "user" / runner.PCH_FOLDER) and os.access(shim, os.X_OK)
    assert runner._pch_shim(f"OBJCACHE={tmp_path}/old/{runner.PCH_FOLDER}/0123456789abcdef/cxx") == shim
    assert runner._pch_shim("OBJCACHE=ccache") is None
    monkeypatch.setenv("OBJCACHE", "ccache")
    assert runner._pch_shim() is None
