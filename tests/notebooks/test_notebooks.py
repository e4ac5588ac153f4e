"""Every notebook runs top to bottom against the library (short settings; the session's trained zoo
runs, shared with the other tests)."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parents[2] / "notebooks").glob("*.ipynb"))


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_executes(path, zoo_root, zoo_train_images, monkeypatch):
    monkeypatch.setenv("BITFOLD_NB_EPOCHS", "1")
    monkeypatch.setenv("BITFOLD_NB_TRAIN_IMAGES", str(zoo_train_images))  # the zoo runs of `trained`, shared
    monkeypatch.setenv("BITFOLD_NB_RUNS", str(zoo_root))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_stored_with_its_outputs(path):
    """A visitor reads the plots without running anything (`make notebooks` stores them): every code
    cell ran, none failed, and every cell that shows a figure holds it as an image."""
    nb = nbformat.read(path, as_version=4)
    for k, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        outputs = cell.get("outputs", [])
        assert cell.get("execution_count") is not None, f"code cell {k} of {path.name} was not run"
        assert not [o for o in outputs if o.output_type == "error"], f"code cell {k} of {path.name} failed"
        if "plt.show()" in cell.source:
            assert any("image/png" in o.get("data", {}) for o in outputs), f"code cell {k} of {path.name}: no figure"


def test_notebook_runs_resolve_to_the_checkouts_build_folder(tmp_path, monkeypatch):
    from bitfold.flow import runs_root

    monkeypatch.delenv("BITFOLD_NB_RUNS", raising=False)
    monkeypatch.chdir(tmp_path)  # Jupyter started somewhere else
    assert runs_root() == Path(__file__).resolve().parents[2] / "build"
    monkeypatch.setenv("BITFOLD_NB_RUNS", str(tmp_path / "runs"))
    assert runs_root() == tmp_path / "runs"
