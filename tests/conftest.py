import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "helpers"))  # shared test helpers: foreign models, IR graphs

# The tests' own user cache (synthesis cache of the notebooks and benchmarks): never the developer's,
# whose calibration would change what the estimator says; kept between sessions like build/ was.
os.environ["BITFOLD_CACHE"] = str(Path(__file__).resolve().parents[1] / ".cache" / "test")


@pytest.fixture(scope="session")
def digits_run(tmp_path_factory):
    """A trained digits-mlp run folder (a few epochs: the chain, not the accuracy, is under test)."""
    from bitfold.flow import train_run

    path = tmp_path_factory.mktemp("runs") / "digits"
    train_run("digits-mlp", path, epochs=5, progress=False)
    return path


@pytest.fixture(scope="session")
def foreign_file(tmp_path_factory):
    """Export a model of tests/foreign.py once per session; returns its QONNX path."""
    import foreign

    cache = {}

    def make(name, in_shape=None):
        in_shape = in_shape or foreign.IN_SHAPES.get(name, (1, 8, 8))
        if name not in cache:
            path = tmp_path_factory.mktemp("foreign") / f"{name}.onnx"
            foreign.export(foreign.make(name), path, in_shape)
            cache[name] = path
        return cache[name]

    return make


@pytest.fixture(scope="session")
def trained(tmp_path_factory):
    """``trained(model)``: a run folder of a zoo model trained for one epoch, once per session
    (the hardware flow's correctness does not depend on accuracy)."""
    from bitfold.flow import train_run

    cache = {}

    def make(model, epochs=1):
        if (model, epochs) not in cache:
            path = tmp_path_factory.mktemp("zoo") / model
            train_run(model, path, epochs=epochs, progress=False)
            cache[model, epochs] = path
        return cache[model, epochs]

    return make


@pytest.fixture(scope="session")
def full_run(trained, tmp_path_factory):
    """A digits-mlp run (one epoch) with every result: check, compile, sim, synth (xc7, whole design
    only), report. Tests copy it (:func:`copy_run`); its Verilator build and synthesis cache are
    shared with the copies (see ``clirun.copy_run``)."""
    import shutil

    from bitfold.check import check_run
    from bitfold.compile import compile_run
    from bitfold.resources import report_run, synth_run
    from bitfold.simulate import sim_run

    path = tmp_path_factory.mktemp("full") / "dm"
    shutil.copytree(trained("digits-mlp"), path)
    check_run(path, images=20, progress=False)
    compile_run(path, target_cycles=300)
    sim_run(path, images=4, progress=False)
    synth_run(path, "xc7", per_layer=False, progress=False)
    report_run(path, "xc7", synth=False, progress=False)
    return path

