"""Results record what they were computed from; readers show only current ones."""

import hashlib
import json

import pytest

from bitfold.provenance import bytes_digest, read_result, result_status, stamp, status
from clirun import FULL_RUN_FAMILY, cli, copy_run, last_json
from hw.errors import BitfoldError


def test_stamp_and_digest(tmp_path):
    sim = {"run": "r", "images": 3, "mismatches": 0, "rtl_accuracy": None, "reference_accuracy": None,
           "cycles_per_image": 64.0, "cycles_per_image_analytic": 64, "latency_cycles": 200}
    doc = stamp(sim, "sim", command="bitfold sim r", inputs={"rtl/x.v": bytes_digest(b"v")})
    assert doc["format"] == "bitfold-sim" and doc["version"] == 1
    assert doc["provenance"]["inputs"] == {"rtl/x.v": "sha256:" + hashlib.sha256(b"v").hexdigest()}
    (tmp_path / "sim").mkdir()
    (tmp_path / "sim" / "sim.json").write_text(json.dumps(doc))
    assert read_result(tmp_path, "sim/sim.json") == doc
    assert result_status(tmp_path, "sim/sim.json").reason == "computed from a rtl/x.v that is gone"
    edited = dict(doc, images=4)
    (tmp_path / "sim" / "sim.json").write_text(json.dumps(edited))
    with pytest.raises(BitfoldError, match=r"^.*sim/sim.json: changed after bitfold wrote it \(its content does not "
                                           r"match its digest\); run `bitfold sim .*` to write it again$"):
        read_result(tmp_path, "sim/sim.json")


@pytest.mark.verilator
@pytest.mark.synth
@pytest.mark.slow
def test_recompile_invalidates_and_summary_says_so(full_run, tmp_path, capsys):
    run = copy_run(full_run, tmp_path / "dm")
    assert all(s.fresh for rel, s in status(run).items() if (run / rel).exists())
    code, out, _ = cli(capsys, "summary", run, "--json")
    s = last_json(out)
    assert code == 0 and s["stale"] == [] and s["mismatches_rtl"] == 0 and FULL_RUN_FAMILY in s["resources"]

    # the same options again: nothing to do, nothing removed
    code, out, _ = cli(capsys, "compile", run, "--target-cycles", 300, "--json")
    assert code == 0 and last_json(out)["up_to_date"] and last_json(out)["invalidated"] == []
    assert (run / "sim" / "sim.json").exists()

    # another folding: the simulation, synthesis and report of the old design are removed
    code, out, _ = cli(capsys, "compile", run, "--target-cycles", 700, "--json")
    r = last_json(out)
    assert code == 0 and not r["up_to_date"]
    assert sorted(r["invalidated"]) == ["report/", "sim/sim.json", f"synth/{FULL_RUN_FAMILY}.json"]
    code, out, err = cli(capsys, "summary", run)
    assert code == 0
    assert "BIT-EXACT: torch = QONNX = reference (the RTL is not simulated: run `bitfold sim" in out
    assert "synthesized" not in out and "stale" not in out


@pytest.mark.verilator
@pytest.mark.synth
@pytest.mark.slow
def test_stale_results_are_listed_not_shown(full_run, tmp_path, capsys):
    run = copy_run(full_run, tmp_path / "dm")
    # the RTL changes under the results (as a compile interrupted before its clean-up would leave it)
    man = json.loads((run / "rtl" / "manifest.json").read_text())
    v = run / "rtl" / man["verilog"]
    v.write_text(v.read_text() + "\n// edited\n")
    st = result_status(run, "sim/sim.json")
    assert st.state == "stale" and st.reason == "computed from a rtl/bitfold_top.v that has changed since"
    assert result_status(run, "rtl/manifest.json").reason == "its output bitfold_top.v was changed after it was written"
    code, out, _ = cli(capsys, "summary", run, "--json")
    s = last_json(out)
    assert code == 0 and "images_simulated" not in s and "resources" not in s and "cycles_per_image_analytic" not in s
    assert s["stale"] == [
        f"rtl/manifest.json: its output bitfold_top.v was changed after it was written; run `bitfold compile {run}`",
        f"sim/sim.json: computed from a rtl/bitfold_top.v that has changed since; run `bitfold sim {run}`",
        f"report/report.json: computed from a rtl/bitfold_top.v that has changed since; run `bitfold report {run}`",
        f"synth/{FULL_RUN_FAMILY}.json: computed from a rtl/bitfold_top.v that has changed since; run "
        f"`bitfold synth {run} --family {FULL_RUN_FAMILY}`",
    ]
    # and the verbs that need the design refuse it, naming the file
    code, out, err = cli(capsys, "sim", run, "--images", 2, "--json")
    assert code == 2
    assert err == (f"bitfold sim: error: {v}: changed after `bitfold compile` wrote it (its hash differs from the one "
                   f"in rtl/manifest.json); run `bitfold compile {run}` again\n")


@pytest.mark.verilator
@pytest.mark.synth
@pytest.mark.slow
def test_tampered_folded_ir_is_named_not_blamed_on_the_verilog(full_run, tmp_path, capsys):
    run = copy_run(full_run, tmp_path / "dm")
    hw_ir = run / "rtl" / "ir.hw.json"
    doc = json.loads(hw_ir.read_text())
    t = next(n for n in doc["nodes"] if n["op"] == "Threshold")["thresholds"]["array"]
    t["int"][0] += 1  # a valid IR, different from what was compiled
    hw_ir.write_text(json.dumps(doc))
    for verb in ("sim", "estimate", "synth"):
        code, _, err = cli(capsys, verb, run)
        assert code == 2
        assert err == (f"bitfold {verb}: error: {hw_ir}: changed after `bitfold compile` wrote it (its hash differs "
                       f"from the one in rtl/manifest.json); run `bitfold compile {run}` again\n")


@pytest.mark.verilator
@pytest.mark.synth
@pytest.mark.slow
def test_damaged_results_are_errors_naming_them(full_run, tmp_path, capsys):
    run = copy_run(full_run, tmp_path / "dm")
    man = run / "rtl" / "manifest.json"
    man.write_bytes(man.read_bytes()[:100])
    code, out, err = cli(capsys, "estimate", run, "--json")
    assert code == 2 and err.startswith(f"bitfold estimate: error: {man}: not valid JSON (")
    assert last_json(out)["where"] == str(man)
    sim = run / "sim" / "sim.json"
    sim.write_bytes(sim.read_bytes()[:50])
    code, _, err = cli(capsys, "summary", run)
    assert code == 2 and err.startswith(f"bitfold summary: error: {run / 'rtl' / 'manifest.json'}: not valid JSON")
    copy = copy_run(full_run, tmp_path / "dm2")
    (copy / "sim" / "sim.json").write_bytes((copy / "sim" / "sim.json").read_bytes()[:50])
    code, _, err = cli(capsys, "summary", copy)
    assert code == 2
    assert err.startswith(f"bitfold summary: error: {copy / 'sim' / 'sim.json'}: not valid JSON (")
    assert err.endswith(f"; run `bitfold sim {copy}` to write it again\n")
    # the result is also edited by hand, validly: the digest says so
    sj = json.loads((full_run / "check.json").read_text())
    sj["images"] += 1
    (copy / "check.json").write_text(json.dumps(sj))
    assert result_status(copy, "check.json").state == "invalid"


@pytest.mark.verilator
@pytest.mark.synth
@pytest.mark.slow
def test_report_uses_current_results_only(full_run, tmp_path, capsys):
    run = copy_run(full_run, tmp_path / "dm")
    rep = json.loads((run / "report" / "report.json").read_text())
    assert rep["rtl_simulated"] and rep["cycles_measured"] and rep["synth_total"]["lut"] > 0
    assert set(rep["provenance"]["inputs"]) >= {"check.json", "sim/sim.json", f"synth/{FULL_RUN_FAMILY}.json",
                                                 "rtl/manifest.json"}
    (run / "check.json").write_text((run / "check.json").read_text())  # same bytes: still current
    ir = run / "ir.json"
    ir.write_text(ir.read_text() + "\n")  # the IR changes (whitespace is enough): everything from it is stale
    code, out, err = cli(capsys, "report", run, "--no-synth")
    assert code == 2 and f"{run / 'rtl'}: compiled from a ir.json that has changed since" in err
    assert cli(capsys, "compile", run, "--target-cycles", 300)[0] == 0
    code, out, err = cli(capsys, "report", run, "--no-synth", "--json")
    rep = last_json(out)
    assert code == 0, err
    assert not rep["rtl_simulated"] and rep["synth_total"] is None and rep["accuracy"]["torch"] is None
    assert rep["stale"] == [f"check.json: computed from a ir.json that has changed since; run `bitfold check {run}`"]
    md = (run / "report" / "report.md").read_text()
    assert "The RTL is not simulated" in md and "## Not used: stale results" in md
