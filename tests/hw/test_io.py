import os
import signal
import stat
import threading

import pytest

from hw import io as hwio
from hw.io import atomic_write_text, file_lock, held_interrupts, publish_dir, replace_dir, temp_dir, umask, user_cache


@pytest.fixture
def mask():
    old = os.umask(0o027)
    yield 0o027
    os.umask(old)


def test_modes_follow_the_umask(tmp_path, mask):
    assert umask() == mask
    f = atomic_write_text(tmp_path / "a" / "f.json", "{}")
    assert stat.S_IMODE(f.stat().st_mode) == 0o640
    d = temp_dir(tmp_path, ".x.")
    assert stat.S_IMODE(d.stat().st_mode) == 0o750 and d.name.endswith(".tmp")


@pytest.mark.parametrize("exchange", [True, False])
def test_replace_dir_keeps_old_or_new(tmp_path, monkeypatch, exchange):
    if not exchange:  # a system without renameat2: rename aside, rename in
        monkeypatch.setattr(hwio, "_exchange", lambda a, b: False)
    target = tmp_path / "rtl"
    target.mkdir()
    (target / "old").write_text("old")
    new = temp_dir(tmp_path, ".rtl.")
    (new / "new").write_text("new")
    replace_dir(new, target)
    assert [p.name for p in target.iterdir()] == ["new"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rtl"]  # the old folder is gone too


def test_replace_dir_into_nothing(tmp_path):
    new = temp_dir(tmp_path, ".r.")
    replace_dir(new, tmp_path / "r")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r"]


def test_publish_dir_first_writer_wins(tmp_path):
    a, b = temp_dir(tmp_path, ".e."), temp_dir(tmp_path, ".e.")
    (a / "result.json").write_text("a")
    (b / "result.json").write_text("b")
    assert publish_dir(a, tmp_path / "entry") is True
    assert publish_dir(b, tmp_path / "entry") is False
    assert (tmp_path / "entry" / "result.json").read_text() == "a" and not b.exists()


@pytest.fixture
def python_sigint():
    """Python's own Ctrl-C handler, even where the test runner was started with SIGINT ignored (a
    background job of a non-interactive shell inherits that)."""
    old = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, old)


def test_ctrl_c_is_held_back_then_delivered(python_sigint):
    done = []
    with pytest.raises(KeyboardInterrupt):
        with held_interrupts():
            os.kill(os.getpid(), signal.SIGINT)
            done.append("both steps ran")
    assert done == ["both steps ran"]


def test_file_lock_serializes(tmp_path):
    order = []

    def second():
        with file_lock(tmp_path / "x.lock"):  # flock is per open file: it waits even in this process
            order.append("second")

    with file_lock(tmp_path / "x.lock"):
        t = threading.Thread(target=second)
        t.start()
        t.join(0.3)
        order.append("first")
    t.join(5)
    assert order == ["first", "second"]


def test_user_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("BITFOLD_CACHE", str(tmp_path / "c"))
    assert user_cache() == tmp_path / "c"
    monkeypatch.delenv("BITFOLD_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert user_cache() == tmp_path / "xdg" / "bitfold"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative")  # the XDG spec says to ignore a relative path
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert user_cache() == tmp_path / "home" / ".cache" / "bitfold"
