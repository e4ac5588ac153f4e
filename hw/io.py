"""Files that readers can trust: atomic writes and folder swaps, modes that follow the umask,
locks between concurrent writers, and the user cache folder.

* A file is written to a temporary sibling and renamed over its target, so a reader (or an
  interrupted writer) sees the old file or the complete new one, never half of one.
* A folder is replaced by building the new one beside it and exchanging the two in one system call
  (``renameat2(RENAME_EXCHANGE)`` on Linux; elsewhere a rename aside and a rename in with Ctrl-C
  held back between them), then deleting the old one.
* Temporary files and folders are created private (``mkstemp``/``mkdtemp``) and given the mode
  an ordinary ``open``/``mkdir`` would have (0666/0777 less the umask) before they are renamed in.
* :func:`file_lock` serializes writers of one thing (a build, a cache entry) across processes.
* :func:`user_cache` is where caches and user calibrations live: ``$BITFOLD_CACHE``, else
  ``$XDG_CACHE_HOME/bitfold``, else ``~/.cache/bitfold``; never the package or the current folder.
"""

import contextlib
import ctypes
import errno
import fcntl
import json
import os
import shutil
import signal
import tempfile
import threading
from pathlib import Path

__all__ = ["atomic_write_bytes", "atomic_write_text", "atomic_write_json", "temp_dir", "replace_dir",
           "publish_dir", "held_interrupts", "file_lock", "user_cache", "umask", "commit"]


def umask() -> int:
    """The process umask, read without changing it where the system allows."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except OSError:
        pass
    with _UMASK_LOCK:
        old = os.umask(0o022)
        os.umask(old)
    return old


_UMASK_LOCK = threading.Lock()


def user_cache() -> Path:
    """The user cache folder (see the module docstring); created on first use by its writers."""
    env = os.environ.get("BITFOLD_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "bitfold"


@contextlib.contextmanager
def held_interrupts():
    """Hold back Ctrl-C (SIGINT) for the duration of the block and deliver it after.

    For the few steps that must happen together (the two renames of a folder swap without
    ``renameat2``). Outside the main thread signals cannot be handled, and the block runs as is.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending = []
    try:
        old = signal.signal(signal.SIGINT, lambda signum, frame: pending.append(signum))
    except ValueError:  # not the main interpreter
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)
        if pending:
            if callable(old):  # Python's default handler raises KeyboardInterrupt
                old(signal.SIGINT, None)
            elif old == signal.SIG_DFL:
                raise KeyboardInterrupt


def commit(src, dst, exchange: bool = False) -> bool:
    """The one step that makes a finished file or folder visible: ``os.replace(src, dst)``, or with
    ``exchange`` the swap of two folders (False where the system cannot swap). Every writer goes
    through here, so tests interrupt it to check that each leaves the old result or the new one."""
    if exchange:
        return _exchange(Path(src), Path(dst))
    os.replace(src, dst)
    return True


def _chmod_default(fd_or_path, folder: bool = False):
    mode = (0o777 if folder else 0o666) & ~umask()
    if isinstance(fd_or_path, int):
        os.fchmod(fd_or_path, mode)
    else:
        os.chmod(fd_or_path, mode)


def atomic_write_bytes(path, data: bytes) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        _chmod_default(fd)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        commit(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode())


def atomic_write_json(path, obj) -> Path:
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def temp_dir(parent, prefix: str) -> Path:
    """A new empty folder in ``parent`` (created if needed) with an ordinary folder's mode; the
    caller fills it and renames it in (:func:`replace_dir`, :func:`publish_dir`) or deletes it."""
    parent = Path(parent)
    parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=prefix, suffix=".tmp", dir=parent))
    _chmod_default(tmp, folder=True)
    return tmp


_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step with Linux's ``renameat2``; False where that is not available."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):  # kernel or file system without exchange
        return False
    raise OSError(err, os.strerror(err), str(b))


def replace_dir(new, target) -> None:
    """Make the complete folder ``new`` be ``target``; the old ``target`` (if any) is deleted after.

    At every moment ``target`` is the old folder or the new one: the two are exchanged in one
    system call, or (without ``renameat2``) the old one is renamed aside and the new one in with
    Ctrl-C held back between the two renames.
    """
    new, target = Path(new), Path(target)
    if not target.exists():
        commit(new, target)
        return
    if commit(new, target, exchange=True):
        shutil.rmtree(new, ignore_errors=True)  # `new` now holds the old folder
        return
    aside = target.with_name(f".{target.name}.old.{new.name}")
    with held_interrupts():
        commit(target, aside)
        commit(new, target)
    shutil.rmtree(aside, ignore_errors=True)


def publish_dir(new, target) -> bool:
    """Rename the complete folder ``new`` to ``target`` unless another writer got there first
    (then ``new`` is deleted); for cache entries, whose content is fixed by their name."""
    new, target = Path(new), Path(target)
    try:
        os.rename(new, target)
        return True
    except OSError as e:
        if e.errno not in (errno.ENOTEMPTY, errno.EEXIST) or not target.is_dir():
            raise
        shutil.rmtree(new, ignore_errors=True)
        return False


@contextlib.contextmanager
def file_lock(path, shared: bool = False):
    """An advisory lock on ``path`` held for the block: a folder, or a lock file (created if
    needed). Other processes taking the same lock wait; ``shared`` locks admit each other."""
    path = Path(path)
    if path.is_dir():
        fd = os.open(path, os.O_RDONLY)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield path
    finally:
        os.close(fd)  # closing releases the lock
