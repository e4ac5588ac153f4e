import pytest

from bitfold.runs import new_run, open_run
from hw.errors import BitfoldError


def test_failed_stage_leaves_nothing_and_keeps_the_old_run(tmp_path):
    target = tmp_path / "run"
    with new_run(target) as tmp:
        (tmp / "config.json").write_text("{}")
        (tmp / "model.qonnx.onnx").write_bytes(b"x")
    with pytest.raises(RuntimeError):
        with new_run(target, force=True) as tmp:
            (tmp / "config.json").write_text('{"new": 1}')
            raise RuntimeError("training crashed")
    assert (target / "config.json").read_text() == "{}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_force_replaces_only_when_complete(tmp_path):
    target = tmp_path / "run"
    target.mkdir()
    (target / "old").write_text("old")
    with pytest.raises(BitfoldError, match=r"already holds a run; pass --force to replace it$"):
        with new_run(target):
            pass
    with new_run(target, force=True) as tmp:
        (tmp / "new").write_text("new")
        assert (target / "old").exists()  # still there while the new run is being made
    assert [p.name for p in target.iterdir()] == ["new"]


def test_open_run_errors(tmp_path):
    with pytest.raises(BitfoldError, match=r"no such run folder"):
        open_run(tmp_path / "x")
    (tmp_path / "y").mkdir()
    with pytest.raises(BitfoldError, match=r"not a bitfold run \(no config.json\)$"):
        open_run(tmp_path / "y")
    (tmp_path / "y" / "config.json").write_text("{}")
    with pytest.raises(BitfoldError, match=r"the run has no model \(model.qonnx.onnx is missing\)"):
        open_run(tmp_path / "y")
