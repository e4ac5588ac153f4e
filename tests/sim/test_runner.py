"""The Verilator build: the runtime objects every model links are compiled once and reused, whatever
the design they were first built for; kept objects that no longer link are rebuilt, not trusted."""

import json

import numpy as np
import pytest
from amaranth import Module
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

import rtlcheck
from hw.plan import GatherPlan
from hw.rtl.gather import Gather
from sim import runner

pytestmark = pytest.mark.verilator


class _Count(wiring.Component):
    """Three ports (clk, rst, o), where a Gather has eight."""

    o: Out(4)

    def elaborate(self, platform):
        m = Module()
        m.d.sync += self.o.eq(self.o + 1)
        return m


class _WideGather(wiring.Component):
    """A Gather with 64 constant outputs besides its streams: a model class far larger than
    :class:`_Count`'s."""

    def __init__(self):
        self.gather = Gather(GatherPlan(8, 3))
        super().__init__({"i": In(stream.Signature(8)), "o": Out(stream.Signature(24)),
                          **{f"tie{k}": Out(1) for k in range(64)}})

    def elaborate(self, platform):
        m = Module()
        m.submodules.gather = self.gather
        wiring.connect(m, wiring.flipped(self.i), self.gather.i)
        wiring.connect(m, self.gather.o, wiring.flipped(self.o))
        m.d.comb += [getattr(self, f"tie{k}").eq(k & 1) for k in range(64)]
        return m


def _design(width, tmp_path):
    from amaranth.back import verilog

    v = tmp_path / f"design{width}.v"
    v.write_text(verilog.convert(Gather(GatherPlan(width, 3)) if width else _Count(), name="top"))
    return v


def _build(width, tmp_path, cycles=None):
    b = runner.build(_design(width, tmp_path), "top", tmp_path / "cache", cycles=cycles)
    return json.loads((b / "bitfold-build.json").read_text())["runtime_reused"]


def test_runtime_objects_rebuilt_when_broken_kept_and_reused(tmp_path, monkeypatch):
    """One compile of the runtime: kept objects that do not link are replaced by the ones the build
    compiles (the path of a first build too, which has none: it compiles and keeps them, as every
    fresh cache's first build does), and later builds link those."""
    monkeypatch.setenv("BITFOLD_CACHE", str(tmp_path / "user"))
    runtime = runner._runtime_dir(False)
    runtime.mkdir(parents=True)
    for f in runner.RUNTIME_OBJECTS:
        (runtime / f).write_bytes(b"not an object")  # damaged: the build compiles afresh and replaces them
    assert not _build(0, tmp_path)  # the kept objects come from a model with fewer ports than the next ones
    assert sorted(p.name for p in runtime.iterdir()) == sorted(runner.RUNTIME_OBJECTS)
    assert all((runtime / f).read_bytes()[:4] == b"\x7fELF" for f in runner.RUNTIME_OBJECTS)
    assert _build(6, tmp_path, cycles=50)  # another design, built -O0 for a short simulation, links them
    # a model linked from the kept objects simulates like any other (cocotb's main, which sizes the
    # model from its header, is compiled for each design)
    beats = np.random.default_rng(1).integers(0, 2**8, 12).tolist()
    out = rtlcheck.run(_WideGather(), beats, 4, backend="verilator", tmp_path=tmp_path / "sim", seed=3)
    assert out == rtlcheck.pack(np.array(beats).reshape(4, 3), 8)
    # that third -O0 build (the second build folder at -O0) compiled cocotb's main and its one-file
    # model with the precompiled header (sim/pch.py), and GCC used it
    assert len(list((tmp_path / "user" / runner.PCH_FOLDER).glob("*/*/bitfold_pch.h.gch"))) == 1
    (log,) = (tmp_path / "sim").rglob("build.log")
    assert "Winvalid-pch" not in log.read_text()
    # the headers inside the precompiled one are not in the dependency list GCC writes (parsed, as
    # in the first builds, verilatedos.h is)
    assert "verilatedos.h" not in (log.parent / "verilator.d").read_text()
    assert "verilatedos.h" in next((tmp_path / "cache").glob("build-*/verilator.d")).read_text()


def test_optimization_follows_the_simulation_length_and_finished_O2_or_O1_builds_serve(tmp_path):
    # the session's runtime objects (compiled at their own level, whatever the model's) serve here
    small, large = 1000, runner.LARGE_VERILOG + 1
    assert runner.cxx_opt(small) == runner.cxx_opt(small, runner.MEDIUM_SIMULATION) == "-O2"
    assert runner.cxx_opt(small, runner.MEDIUM_SIMULATION - 1) == "-O1"
    assert runner.cxx_opt(small, runner.SHORT_SIMULATION) == "-O1"
    assert runner.cxx_opt(small, runner.SHORT_SIMULATION - 1) == "-O0"
    assert runner.cxx_opt(large) == runner.cxx_opt(large, 10**9) == "-O0"  # fully parallel: few cycles an image
    v = _design(0, tmp_path)

    def level(build):
        log = (build / "build.log").read_text()
        (opt,) = [o for o in ("-O0", "-O1", "-O2") if f" {o} " in log]
        return opt

    short = runner.build(v, "top", tmp_path / "cache", cycles=10)
    assert level(short) == "-O0"
    medium = runner.build(v, "top", tmp_path / "cache", cycles=10**6)
    assert medium != short and level(medium) == "-O1"
    assert runner.build(v, "top", tmp_path / "cache", cycles=10) == medium  # faster to simulate: reused
    assert runner.build(v, "top", tmp_path / "cache", cycles=10**8) == medium  # a rebuild costs more
    w = _design(1, tmp_path)
    long = runner.build(w, "top", tmp_path / "cache")
    assert level(long) == "-O2" and runner.build(w, "top", tmp_path / "cache", cycles=10**6) == long
