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
def zoo_root(tmp_path_factory):
    """One folder of trained zoo runs for the whole test session, shared by the xdist workers
    (``trained_run`` makes them take turns) and by the notebooks: each model trains once."""
    base = tmp_path_factory.getbasetemp()
    root = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "zoo"
    root.mkdir(exist_ok=True)
    return root


# The zoo runs of the test session (the fixture below and the notebooks) train on the first this
# many training images: a quarter of the MNIST split (all of digits), as good as all of it for the
# hardware flow under test.
TRAIN_IMAGES = 2_000


@pytest.fixture(scope="session")
def zoo_train_images():
    return TRAIN_IMAGES


@pytest.fixture(scope="session")
def trained(zoo_root):
    """``trained(model)``: a run folder of a zoo model trained for one epoch on the first
    :data:`TRAIN_IMAGES` training images (shared: tests copy it before changing it; the hardware
    flow's correctness does not depend on accuracy)."""
    from bitfold.flow import trained_run

    def make(model, epochs=1):
        return trained_run(model, zoo_root / (model if epochs == 1 else f"{model}-e{epochs}"), epochs,
                           train_images=TRAIN_IMAGES)

    return make


@pytest.fixture(scope="session")
def full_run(trained, zoo_root):
    """A digits-mlp run (one epoch) with every result: check, compile, sim, synth (:data:`FULL_RUN_FAMILY`,
    whole design only), report. Made once for the session beside the zoo runs (the xdist workers take turns: the
    later ones find it made) and never changed: tests copy it (:func:`copy_run`); its Verilator
    build and synthesis cache are shared with the copies (see ``clirun.copy_run``)."""
    import shutil

    from bitfold.check import check_run
    from bitfold.compile import compile_run
    from bitfold.resources import report_run, synth_run
    from bitfold.simulate import sim_run
    from clirun import FULL_RUN_FAMILY
    from hw.io import file_lock

    folder = zoo_root.parent / "full-run"
    path, done = folder / "dm", folder / "complete"
    with file_lock(zoo_root.parent / ".full-run.lock"):
        if not done.exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            shutil.copytree(trained("digits-mlp"), path)
            check_run(path, images=20, progress=False)
            compile_run(path, target_cycles=300)
            sim_run(path, images=4, progress=False)
            synth_run(path, FULL_RUN_FAMILY, per_layer=False, progress=False)
            report_run(path, FULL_RUN_FAMILY, synth=False, progress=False)
            done.touch()
    return path
