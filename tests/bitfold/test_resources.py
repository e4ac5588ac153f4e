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
    assert code == 0 and set(r["layers"]) >= {"Gemm_0", "Gemm_1", "Gemm_2", "argmax"}
    assert r["total"]["lut"] == sum(v["lut"] for v in r["layers"].values()) and r["total"]["bram"] >= 1


@pytest.mark.synth
@pytest.mark.slow
def test_synth_pnr_and_report(compiled, capsys):
    code, out, err = cli(capsys, "synth", compiled, "--family", "ecp5", "--pnr", "--device", "45k", "--json")
    assert code == 0, err
    r = json.loads(out.strip().splitlines()[-1])
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
