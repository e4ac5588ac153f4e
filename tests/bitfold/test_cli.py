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
    # on the first 400 training images only: another model, and the run says so
    code, out, _ = run_cli(capsys, "train", "--model", "digits-mlp", "--epochs", "2", "--seed", "7",
                           "--train-images", "400", "--out", tmp_path / "c", "--json")
    assert code == 0 and last_json(out)["train_images"] == 400
    assert (tmp_path / "c" / "ir.json").read_text() != outs[0]
    assert json.loads((tmp_path / "c" / "config.json").read_text())["train"]["images_limit"] == 400


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
    assert code == 0 and last_json(out)["layers"] == 6
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


def test_model_flattening_its_input_inside_checks(tmp_path, capsys, foreign_file):
    """A 1x28x28 model that flattens before quantizing: QONNX's (N, 784) input codes compare with
    the IR's (N, 1, 28, 28) ones (they are the same elements)."""
    run = tmp_path / "fc"
    src = foreign_file("mnist-fc-flatten-inside")
    assert run_cli(capsys, "import", src, "--out", run, "--dataset", "mnist")[0] == 0
    code, out, err = run_cli(capsys, "check", run, "--images", "100", "--json")
    r = last_json(out)
    assert code == 0, err
    assert r["layers"][0]["op"] == "Quantize" and r["layers"][0]["shape"] == [1, 28, 28]
    assert r["layers"][0]["mismatches_qonnx"] == 0 and r["mismatches_qonnx"] == 0


# -- errors: exit 2, one line naming what and where, the error JSON with --json -------------------

def _with_metadata(tmp_path, value):
    model = handmade.matmul_model(k=64, classes=10)
    entry = model.metadata_props.add()
    entry.key, entry.value = "bitfold.config", value
    return handmade.save(model, tmp_path / "meta.onnx")


@pytest.mark.parametrize(("value", "message"), [
    ("{not json", "the bitfold.config metadata is not valid JSON (Expecting property name enclosed in double "
                  "quotes: column 2)"),
    ("[1, 2]", "the bitfold.config metadata must be a JSON object"),
    ('{"model": "m", "mst": {"layers": [[-1]]}}', "the bitfold.config metadata: mst: 'depth_bound' is a required "
                                                  "property"),
    ('{"model": 7}', "the bitfold.config metadata: model: expected a string, found the number 7"),
])
def test_import_with_bad_metadata(tmp_path, capsys, value, message):
    src = _with_metadata(tmp_path, value)
    code, out, err = run_cli(capsys, "import", src, "--out", tmp_path / "r", "--json")
    assert code == 2
    assert err == f"bitfold import: error: {src}: {message}\n"
    assert last_json(out) == {"error": f"{src}: {message}", "where": str(src)}
    assert not (tmp_path / "r").exists()


def test_output_folder_that_cannot_be_written(tmp_path, capsys):
    src = handmade.save(handmade.matmul_model(k=64, classes=10), tmp_path / "hand.onnx")
    out = "/sys/kernel/bitfold-test/run"  # read-only even for root
    code, stdout, err = run_cli(capsys, "import", src, "--out", out, "--json")
    assert code == 2
    assert err == f"bitfold import: error: {out}: cannot create the run folder here (Operation not permitted)\n"
    assert last_json(stdout)["where"] == out


def test_usage_errors_are_one_line_with_json(capsys):
    code, out, err = run_cli(capsys, "train", "--model", "nope", "--out", "x", "--json")
    assert code == 2
    assert err == ("bitfold train: error: argument --model: invalid choice: 'nope' (choose from 'tfc', 'sfc', 'lfc', "
                   "'cnv-mnist', 'digits-mlp', 'jet-mnist', 'jet-full-mnist', 'mst-cnv-mnist')\n")
    assert last_json(out)["where"] == "--model"
    code, out, err = run_cli(capsys)
    assert code == 2 and err == "bitfold: error: the following arguments are required: VERB\n"
    code, out, err = run_cli(capsys, "train", "--model", "tfc", "--out", "x", "--mst-lambda", "-1", "--json")
    assert code == 2
    assert err == "bitfold train: error: --mst-lambda must be a finite number of at least 0 (0 = off), not -1\n"
    assert last_json(out) == {"error": "--mst-lambda must be a finite number of at least 0 (0 = off), not -1",
                              "where": "--mst-lambda"}
    code, out, err = run_cli(capsys, "train", "--model", "tfc", "--out", "x", "--train-images", "0")
    assert code == 2 and err == "bitfold train: error: --train-images must be at least 1, not 0\n"


def test_bench_points_are_checked_before_anything_runs(capsys):
    code, out, err = run_cli(capsys, "bench", "mst", "--points", "default")
    assert code == 2 and err == "bitfold bench: error: --points applies to the throughput benchmark, not mst\n"
    code, out, err = run_cli(capsys, "bench", "throughput", "--points", "default", "nope", "--json")
    assert code == 2 and err == "bitfold bench: error: unknown design point 'nope'; known: default, fastest, finn\n"
    assert last_json(out) == {"error": "unknown design point 'nope'; known: default, fastest, finn", "where": "bench"}


def test_ir_file_damaged_or_inconsistent(digits_run, tmp_path, capsys):
    import shutil

    run = tmp_path / "dm"
    shutil.copytree(digits_run, run)
    ir = run / "ir.json"
    good = json.loads(ir.read_text())

    ir.write_text(ir.read_text()[:400])
    code, out, err = run_cli(capsys, "check", run, "--json")
    assert code == 2 and err.startswith(f"bitfold check: error: {ir}: not valid JSON (")
    assert err.endswith("the file is truncated or corrupt\n") and last_json(out)["where"] == str(ir)

    bad = json.loads(json.dumps(good))
    bad["nodes"][2]["weights"]["array"]["shape"] = [64, 64]  # MatMul_0 is 128 x 64
    ir.write_text(json.dumps(bad))
    code, _, err = run_cli(capsys, "compile", run)
    assert code == 2
    assert err == (f"bitfold compile: error: {ir}: IR check failed: node MatMul_0 (Dense): weights (64, 64) do not "
                   "map input (64,) to output (128,)\n")

    bad = json.loads(json.dumps(good))
    t = bad["nodes"][3]["thresholds"]["array"]
    t["int"], t["shape"] = t["int"][:-1], [len(t["int"]) - 1]
    ir.write_text(json.dumps(bad))
    code, _, err = run_cli(capsys, "check", run)
    assert code == 2
    assert err == (f"bitfold check: error: {ir}: IR check failed: node BipolarQuant_3 (Threshold): needs 128 "
                   "thresholds and directions\n")

    bad = json.loads(json.dumps(good))
    bad["nodes"][2]["weights"]["array"]["bits"] = "not base64!"
    ir.write_text(json.dumps(bad))
    code, _, err = run_cli(capsys, "check", run)
    assert code == 2 and err.startswith(f"bitfold check: error: {ir}: a bit array is not valid base64 (")

    bad = json.loads(json.dumps(good))
    bad["nodes"][3]["thresholds"]["array"]["dtype"] = "float128"
    ir.write_text(json.dumps(bad))
    code, _, err = run_cli(capsys, "check", run)
    assert code == 2
    assert err == (f"bitfold check: error: {ir}: nodes[3].thresholds.array.dtype: expected one of \"int8\", "
                   "\"int16\", \"int32\", \"int64\", \"uint8\", \"uint16\", \"uint32\", \"uint64\", found the string "
                   "\"float128\" (schema ir-1)\n")


def test_fold_file_with_a_wrong_type(digits_run, tmp_path, capsys):
    fold = tmp_path / "fold.json"
    fold.write_text(json.dumps({"MatMul_0": {"pe": "2", "simd": 64}, "MatMul_1": {"pe": 1}, "MatMul_2": {"pe": 1}}))
    import shutil

    run = tmp_path / "dm"
    shutil.copytree(digits_run, run)
    code, out, err = run_cli(capsys, "compile", run, "--fold", fold, "--json")
    assert code == 2
    assert err == (f"bitfold compile: error: {fold}: MatMul_0.pe: expected an integer, found the string \"2\" "
                   "(schema fold-1)\n")
    assert last_json(out)["where"] == str(fold)


def test_a_bug_exits_3_with_its_traceback(digits_run, capsys, monkeypatch):
    import bitfold.summary

    def broken(path, results=None):
        raise ValueError("boom")

    monkeypatch.setattr(bitfold.summary, "summarize", broken)
    code, out, err = run_cli(capsys, "summary", digits_run, "--json")
    assert code == 3
    assert "Traceback (most recent call last)" in err
    assert err.endswith("bitfold summary: internal error: ValueError: boom (a bug in bitfold; please report it with "
                        "the traceback above)\n")
    assert last_json(out)["where"] == "summary"


def test_a_design_compiled_again_elsewhere_is_read_from_the_verilog_cache(digits_run, tmp_path, capsys,
                                                                           monkeypatch):
    import shutil

    monkeypatch.setenv("BITFOLD_CACHE", str(tmp_path / "cache"))
    runs = {name: shutil.copytree(digits_run, tmp_path / name) for name in ("a", "b", "c")}
    flags = {"a": [], "b": [], "c": ["--no-cache"]}
    for name, run in runs.items():
        code, _, err = run_cli(capsys, "compile", run, "--target-cycles", 300, *flags[name])
        assert code == 0, err
    cached = {name: json.loads((run / "rtl" / "manifest.json").read_text())["emit_cached"]
              for name, run in runs.items()}
    assert cached == {"a": False, "b": True, "c": False}
    texts = {(run / "rtl" / "bitfold_top.v").read_bytes() for run in runs.values()}
    assert len(texts) == 1
    assert len(list((tmp_path / "cache" / "verilog").glob("*.v"))) == 1
    # --no-cache elaborates even for an up-to-date rtl/
    code, out, err = run_cli(capsys, "compile", runs["b"], "--target-cycles", 300, "--no-cache", "--json")
    assert code == 0 and not last_json(out)["up_to_date"], err
    assert not json.loads((runs["b"] / "rtl" / "manifest.json").read_text())["emit_cached"]
