"""The Verilog cache (hw/verilog_cache.py): a design emitted again is read back equal to what
elaboration gives, and only that design's entry is ever read."""

import os

import pytest

from hw import verilog_cache
from hw.emit import emit_verilog, write_design
from hw.plan import plan_graph
from hw.plan.interface import Interface
from nets import folded_net


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("BITFOLD_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "verilog"


def test_a_design_emitted_again_is_read_back_equal_to_elaboration(cache, tmp_path):
    plan = plan_graph(folded_net(5, target=64, in_bits=1, convs=((3, 1, 0),), dense=(10,)))
    first = write_design(plan, tmp_path / "a", "dut_a", Interface.AXIS)
    assert not first["emit_cached"] and len(list(cache.glob("*.v"))) == 1
    again = write_design(plan, tmp_path / "b", "dut_a", Interface.AXIS)
    assert again["emit_cached"]
    assert (tmp_path / "a" / "dut_a.v").read_text() == (tmp_path / "b" / "dut_a.v").read_text()
    # a plan built again from the same graph (another process would do the same) hits too
    rebuilt = plan_graph(folded_net(5, target=64, in_bits=1, convs=((3, 1, 0),), dense=(10,)))
    assert verilog_cache.key(rebuilt, "dut_a", Interface.AXIS) == verilog_cache.key(plan, "dut_a", Interface.AXIS)
    fresh = write_design(plan, tmp_path / "c", "dut_a", Interface.AXIS, cache=False)
    assert not fresh["emit_cached"]
    assert (tmp_path / "c" / "dut_a.v").read_text() == (tmp_path / "a" / "dut_a.v").read_text()


def test_each_input_of_emission_has_its_own_entry(cache):
    graph = folded_net(7, target=64, in_bits=1, convs=(), dense=(12, 10))
    plan = plan_graph(graph)
    other_fold = plan_graph(folded_net(7, target=16, in_bits=1, convs=(), dense=(12, 10)))
    other_weights = plan_graph(folded_net(8, target=64, in_bits=1, convs=(), dense=(12, 10)))
    keys = {verilog_cache.key(plan, "t", Interface.AXIS), verilog_cache.key(plan, "u", Interface.AXIS),
            verilog_cache.key(plan, "t", Interface.STREAM), verilog_cache.key(other_fold, "t", Interface.AXIS),
            verilog_cache.key(other_weights, "t", Interface.AXIS)}
    assert len(keys) == 5 and None not in keys
    texts = {(name, i): emit_verilog(plan, name, i) for name in ("t", "u") for i in Interface}
    assert len(list(cache.glob("*.v"))) == 4
    for (name, i), text in texts.items():  # every entry read back under its own key
        assert emit_verilog(plan, name, i) == text
        assert f"module {name}(" in text and (("s_axis_tdata" in text) == (i == Interface.AXIS))


def test_a_damaged_entry_is_deleted_and_the_design_elaborated_again(cache):
    plan = plan_graph(folded_net(9, target=32, in_bits=1, convs=(), dense=(10,)))
    text = emit_verilog(plan, "dut")
    (entry,) = cache.glob("*.v")
    entry.write_text(entry.read_text().replace("module dut(", "module evil("))
    assert verilog_cache.load(verilog_cache.key(plan, "dut", Interface.STREAM)) is None and not entry.exists()
    assert emit_verilog(plan, "dut") == text and entry.exists()


def test_the_least_recently_used_entries_go_first(cache):
    for i in range(4):
        verilog_cache.store(f"k{i}", "x" * 100)
    verilog_cache.load("k0")  # used: newest now
    for n, p in enumerate(sorted(cache.glob("*.v"), key=lambda p: p.name)):
        if p.name != "k0.v":
            os.utime(p, (1000 + n, 1000 + n))
    verilog_cache._trim(limit=2 * 166)  # two entries: 100 characters + the 65-character digest line
    assert sorted(p.name for p in cache.glob("*.v")) == ["k0.v", "k3.v"]


def test_a_process_whose_hw_source_changed_since_it_started_does_not_use_the_cache(cache, monkeypatch):
    import hw

    plan = plan_graph(folded_net(9, target=32, in_bits=1, convs=(), dense=(10,)))
    assert verilog_cache.key(plan, "dut", Interface.STREAM) is not None
    edited = dict(hw.IMPORTED_SOURCE)
    rel = "emit.py"
    edited[rel] = (edited[rel][0] - 1, edited[rel][1])  # the file on disk is newer than what runs
    monkeypatch.setattr(hw, "IMPORTED_SOURCE", edited)
    verilog_cache._code.cache_clear()
    try:
        assert verilog_cache.key(plan, "dut", Interface.STREAM) is None
        write_design(plan, cache.parent / "rtl", "dut")
        assert not cache.exists() or not list(cache.glob("*.v"))
    finally:
        verilog_cache._code.cache_clear()
