"""Running the `bitfold` command in-process as a user would, and copies of run folders."""

import json
import shutil
from pathlib import Path

__all__ = ["cli", "last_json", "copy_run", "run_files", "FULL_RUN_FAMILY"]

# the family the full_run fixture (tests/conftest.py) is synthesized and reported for
FULL_RUN_FAMILY = "ecp5"


def cli(capsys, *argv):
    """``bitfold ARGV`` in-process: ``(exit status, stdout, stderr)``."""
    from bitfold.cli import main

    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def last_json(out):
    return json.loads(out.strip().splitlines()[-1])


def copy_run(src, dst):
    """A copy of a run folder whose caches (Verilator builds, synthesis) are links to the original's."""
    dst = Path(dst)
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("cache"))
    for sub in ("sim", "synth"):
        if (Path(src) / sub / "cache").is_dir():
            (dst / sub).mkdir(exist_ok=True)
            (dst / sub / "cache").symlink_to(Path(src) / sub / "cache")
    return dst


def run_files(path) -> dict:
    """``{relative path: bytes}`` of a run folder's files, caches and work folders left out."""
    path = Path(path)
    out = {}
    for p in sorted(path.rglob("*")):
        rel = p.relative_to(path)
        if p.is_file() and not p.is_symlink() and "cache" not in rel.parts and not rel.parts[-1].startswith("."):
            if not any(part.startswith("work-") for part in rel.parts):
                out[str(rel)] = p.read_bytes()
    return out
