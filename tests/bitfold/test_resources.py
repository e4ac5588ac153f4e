"""bitfold estimate / synth / report on a compiled run."""

import json
import shutil

import pytest

from bitfold.cli import main


def cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def compiled(digits_run, tmp_path, capsys):
    run = tmp_path / "dm"
    shutil.copytree(digits_run, run)
    assert cli(capsys, "compile", run, "--target-cycles", 300)[0] == 0
    return run


def test_estimate_json(compiled, capsys):
    code, out, _ = cli(capsys, "estimate", compiled, "--family", "ecp5", "--json")
    r = json.loads(out.strip().splitlines()[-1])
    assert code == 0 and set(r["layers"]) >= {"MatMul_0", "MatMul_1", "MatMul_2", "argmax"}
    assert r["total"]["lut"] == sum(v["lut"] for v in r["layers"].values()) and r["total"]["bram"] >= 1


@pytest.mark.synth
@pytest.mark.slow
def test_synth_pnr_and_report(foreign_file, tmp_path, capsys):
    # a small imported net (1,200 LUTs on ECP5): place and route of the digits-mlp design takes three
    # times as long and proves no more
    compiled = tmp_path / "pq"
    assert cli(capsys, "import", foreign_file("pynq-fc"), "--out", compiled, "--dataset", "digits")[0] == 0
    assert cli(capsys, "compile", compiled, "--target-cycles", 256)[0] == 0
    code, out, err = cli(capsys, "synth", compiled, "--family", "ecp5", "--pnr", "--device", "45k", "--freq", "60",
                         "--json")
    assert code == 0, err
    r = json.loads(out.strip().splitlines()[-1])
    assert r["pnr"]["target_mhz"] == 60 and r["pnr"]["rip_up"] and r["provenance"]["options"]["freq_mhz"] == 60
    assert r["fmax_mhz"] > 10 and r["images_per_s_at_fmax"] > 0 and r["yosys"].startswith("Yosys")
    assert r["total"]["lut"] > 0 and set(r["layers"]) >= {"Gemm_0", "argmax"}
    code, out, err = cli(capsys, "report", compiled, "--family", "ecp5", "--no-synth")
    assert code == 0, err
    md = (compiled / "report" / "report.md").read_text()
    assert "Fmax on ecp5" in md and "| Gemm_0 |" in md
    assert (compiled / "report" / "report_luts.png").stat().st_size > 5000
    rep = json.loads((compiled / "report" / "report.json").read_text())
    assert rep["layers"][1]["synth"]["lut"] > 0 and rep["estimate_total"]["lut"] > 0


def test_resource_bad_inputs(digits_run, tmp_path, capsys):
    run = tmp_path / "dm"
    shutil.copytree(digits_run, run)
    code, _, err = cli(capsys, "estimate", run)
    assert code == 2 and "no compiled RTL (rtl/manifest.json); run `bitfold compile" in err
    code, _, err = cli(capsys, "synth", run, "--family", "virtex2")
    assert code == 2
    assert err == ("bitfold synth: error: argument --family: invalid choice: 'virtex2' "
                   "(choose from 'xc7', 'ice40', 'ecp5')\n")
    code, _, err = cli(capsys, "synth", tmp_path / "missing")
    assert code == 2 and "no such run folder" in err


def test_calibrate_writes_the_user_cache_and_keeps_other_families(tmp_path, monkeypatch, capsys):
    """Where calibrate writes (never the package), with the synthesis replaced by the committed baseline."""
    import hw.synth.calibrate as cal_mod
    import hw.synth.dataset as dataset
    from hw.estimate import CALIBRATION, calibration_path, load_calibration
    from hw.synth.baselines import load_baseline

    cal = load_calibration(CALIBRATION)
    base = load_baseline(cal["yosys"])

    def collect(fam, cache, progress=True, jobs=1):
        assert str(cache).startswith(str(tmp_path / "cache"))
        return [{"name": n, "family": fam, "yosys": cal["yosys"], **r} for n, r in base["families"][fam].items()]

    monkeypatch.setattr(dataset, "collect", collect)
    monkeypatch.setattr(cal_mod, "measure_tables", lambda fam, cache: {"or_luts": {fam: cal["tables"]["or_luts"][fam]}})
    monkeypatch.setattr("hw.synth.yosys_version", lambda: cal["yosys"])
    monkeypatch.setenv("BITFOLD_CACHE", str(tmp_path / "cache"))
    package = CALIBRATION.read_bytes()
    code, out, err = cli(capsys, "calibrate", "--family", "ecp5", "--json")
    assert code == 0, err
    r = json.loads(out.strip().splitlines()[-1])
    assert r["calibration"] == str(tmp_path / "cache" / "calibration.json") and r["families"] == ["ecp5"]
    assert set(r["kept"]) == set(cal["families"]) - {"ecp5"}
    assert CALIBRATION.read_bytes() == package  # the package is never written
    assert calibration_path() == tmp_path / "cache" / "calibration.json"
    mine = load_calibration()
    assert mine["families"]["ecp5"]["lut"] == cal["families"]["ecp5"]["lut"]  # same counts, same fit
    assert mine["families"]["xc7"] == cal["families"]["xc7"]
    assert (tmp_path / "cache" / "baselines" / "yosys-0.70.json").exists()
    code, _, err = cli(capsys, "calibrate", "--family", "ecp5", "--out", "/sys/kernel/bitfold/calibration.json")
    assert code == 2 and err == ("bitfold calibrate: error: /sys/kernel/bitfold: cannot write here (Operation not "
                                 "permitted)\n")


def test_options_that_cannot_work_are_refused_before_synthesis(digits_run, tmp_path, capsys):
    import shutil

    run = tmp_path / "dm"
    shutil.copytree(digits_run, run)  # not even compiled: the options are checked first
    code, out, err = cli(capsys, "synth", run, "--family", "xc7", "--pnr", "--json")
    assert code == 2
    assert err == ("bitfold synth: error: --pnr: place and route is available for ice40, ecp5, not xc7 "
                   "(no open-source flow)\n")
    assert json.loads(out.strip().splitlines()[-1])["where"] == "--pnr"
    code, _, err = cli(capsys, "synth", run, "--family", "ecp5", "--pnr", "--device", "99k")
    assert code == 2 and err == ("bitfold synth: error: --device: unknown ecp5 device '99k'; choose one of 25k, "
                                 "45k, 85k, 12k\n")
    code, _, err = cli(capsys, "synth", run, "--family", "ecp5", "--freq", "100")
    assert code == 2 and err == "bitfold synth: error: --freq applies to --pnr only\n"
    code, _, err = cli(capsys, "synth", run, "--family", "ecp5", "--pnr", "--freq", "0")
    assert code == 2 and err == ("bitfold synth: error: --freq: the target clock must be a number of MHz from 1 "
                                 "to 1000, not 0.0\n")
    assert not (run / "synth").exists()


def test_ice40_is_synthesized_not_estimated(digits_run, capsys):
    from bitfold.resources import estimate_run
    from hw.errors import BitfoldError

    reason = ("iCE40 has no distributed RAM, so the small FIFOs the estimator counts as LUT RAM become block RAM "
              "there, which its model does not describe; synthesize instead: `bitfold synth RUN --family ice40`")
    for verb in ("estimate", "report"):
        code, out, err = cli(capsys, verb, digits_run, "--family", "ice40", "--json")
        assert code == 2
        assert err == f"bitfold {verb}: error: argument --family: the estimator does not model ice40: {reason}\n"
        assert json.loads(out.strip().splitlines()[-1])["where"] == "--family"
    with pytest.raises(BitfoldError, match=r"^the estimator does not model ice40: iCE40 has no distributed RAM"):
        estimate_run(digits_run, "ice40")
