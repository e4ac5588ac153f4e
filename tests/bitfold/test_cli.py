"""End to end through the `bitfold` command, in-process (``main(argv)``), as a user runs it."""

import json

import pytest

import handmade
from bitfold.cli import main


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def last_json(out):
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.slow
def test_train_then_check_digits_is_bit_exact(tmp_path, capsys):
    run = tmp_path / "dm"
    code, out, _ = run_cli(capsys, "train", "--model", "digits-mlp", "--epochs", "3", "--out", run, "--json")
    assert code == 0
    summary = last_json(out)
    assert summary["model"] == "digits-mlp" and summary["dataset"] == "digits"
    for f in ("config.json", "model.pt", "metrics.json", "model.qonnx.onnx", "ir.json"):
        assert (run / f).exists(), f
    metrics = json.loads((run / "metrics.json").read_text())
    assert len(metrics["epochs"]) == 3 and {"loss", "train_accuracy", "test_accuracy"} <= set(metrics["epochs"][0])

    code, out, _ = run_cli(capsys, "check", run, "--json")
    r = last_json(out)
    assert code == 0
    assert r["images"] == 359 and r["mismatches_torch"] == 0 and r["mismatches_qonnx"] == 0
    assert r["accuracy_torch"] == r["accuracy_reference"] == r["accuracy_qonnx"]
    keys = {"images", "accuracy_torch", "accuracy_reference", "mismatches_torch", "mismatches_qonnx", "layers"}
    assert keys <= set(r)
    assert all(layer["mismatches_torch"] == 0 and layer["mismatches_qonnx"] == 0 for layer in r["layers"])
    assert [layer["op"] for layer in r["layers"]] == ["Quantize", "Threshold", "Threshold", "Dense"]
    assert json.loads((run / "check.json").read_text())["ok"] is True


@pytest.mark.slow
def test_same_seed_same_result(tmp_path, capsys):
    outs = []
    for name in ("a", "b"):
        code, out, _ = run_cli(capsys, "train", "--model", "digits-mlp", "--epochs", "2", "--seed", "7",
                               "--out", tmp_path / name, "--json")
        assert code == 0
        outs.append((tmp_path / name / "ir.json").read_text())
    assert outs[0] == outs[1]


def test_human_check_output(digits_run, capsys):
    code, out, _ = run_cli(capsys, "check", digits_run, "--images", "50")
    assert code == 0
    assert "BIT-EXACT" in out and "torch≠ref" in out


def test_existing_run_needs_force(digits_run, capsys):
    before = sorted(p.name for p in digits_run.iterdir())
    code, _, err = run_cli(capsys, "train", "--model", "digits-mlp", "--epochs", "1", "--out", digits_run)
    assert code == 2
    assert err == f"bitfold train: error: {digits_run}: already holds a run; pass --force to replace it\n"
    assert sorted(p.name for p in digits_run.iterdir()) == before


def test_import_any_qonnx_and_check_random(tmp_path, capsys):
    src = handmade.save(handmade.matmul_model(k=64, classes=10), tmp_path / "hand.onnx")
    run = tmp_path / "hand"
    code, out, _ = run_cli(capsys, "import", src, "--out", run, "--json")
    assert code == 0 and last_json(out)["layers"] == 5
    code, out, _ = run_cli(capsys, "check", run, "--json")
    assert code == 2  # no dataset: says what to do
    code, out, err = run_cli(capsys, "check", run, "--random", "300", "--json")
    r = last_json(out)
    assert code == 0 and r["images"] == 300 and r["mismatches_qonnx"] == 0 and r["mismatches_torch"] is None
    assert r["accuracy_torch"] is None and r["accuracy_reference"] is None


def test_check_without_dataset_says_what_to_do(tmp_path, capsys):
    src = handmade.save(handmade.matmul_model(k=64, classes=10), tmp_path / "hand.onnx")
    run_cli(capsys, "import", src, "--out", tmp_path / "r")
    code, _, err = run_cli(capsys, "check", tmp_path / "r")
    assert code == 2
    assert err == (f"bitfold check: error: {tmp_path / 'r'}: the run has no dataset; pass --random N, "
                   "or import it with --dataset NAME\n")


def test_import_with_a_dataset_of_the_wrong_shape(tmp_path, capsys, foreign_file):
    code, _, err = run_cli(capsys, "import", foreign_file("pynq-fc"), "--out", tmp_path / "r", "--dataset", "mnist")
    assert code == 2
    assert err == (f"bitfold import: error: {foreign_file('pynq-fc')}: the model expects inputs of shape "
                   "(1, 8, 8), but dataset 'mnist' has images of shape (1, 28, 28)\n")
    assert not (tmp_path / "r").exists()


def test_import_then_check_foreign_on_digits(tmp_path, capsys, foreign_file):
    run = tmp_path / "cnv"
    assert run_cli(capsys, "import", foreign_file("small-cnv"), "--out", run, "--dataset", "digits")[0] == 0
    code, out, _ = run_cli(capsys, "check", run, "--json")
    r = last_json(out)
    assert code == 0 and r["images"] == 359 and r["mismatches_qonnx"] == 0


def test_missing_run_and_truncated_model(tmp_path, capsys, digits_run):
    code, _, err = run_cli(capsys, "check", tmp_path / "nope")
    assert code == 2
    assert err.startswith(f"bitfold check: error: {tmp_path / 'nope'}: no such run folder; create one with")
    bad = tmp_path / "bad.onnx"
    bad.write_bytes((digits_run / "model.qonnx.onnx").read_bytes()[:300])
    code, _, err = run_cli(capsys, "import", bad, "--out", tmp_path / "b")
    assert code == 2 and "not a readable ONNX file (truncated or corrupt" in err
    assert not (tmp_path / "b").exists()


def test_missing_dataset_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("BITFOLD_DATA", str(tmp_path / "nodata"))
    code, _, err = run_cli(capsys, "train", "--model", "tfc", "--out", tmp_path / "t")
    assert code == 2 and err.count("\n") == 1 and "run `make data`" in err
    assert not (tmp_path / "t").exists()
