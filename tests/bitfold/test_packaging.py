"""The wheel works: built from the sources, installed into a fresh virtual environment outside the
repository, it trains, checks, compiles and estimates, reading its package data from
site-packages and writing nothing there or in the current folder; run files follow the umask."""

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DATA = ["hw/estimate/calibration.json", "hw/synth/baselines/yosys-0.70.json", "sim/fst/lz4.h",
                "bitfold/schemas/ir-1.json", "bitfold/schemas/manifest-1.json", "bitfold/schemas/report-1.json",
                "bitfold/schemas/common-1.json"]


def _run(cmd, **kw):
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kw)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))}\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}"
    return proc


def _tree(folder: Path) -> dict:
    """Every file (with its mtime) and folder (whose mtime changes when Python writes bytecode
    beside the modules it imports) under ``folder``, the bytecode left out."""
    return {str(p.relative_to(folder)): None if p.is_dir() else p.stat().st_mtime_ns for p in folder.rglob("*")
            if "__pycache__" not in p.parts}


def _requirement_closure(wheel: Path) -> list:
    """The distributions of this environment that ``wheel`` needs: its ``Requires-Dist`` (extras
    left out) and theirs, markers evaluated, each with the extras asked of it."""
    import zipfile
    from email.parser import Parser
    from importlib.metadata import distribution

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    with zipfile.ZipFile(wheel) as z:
        (meta,) = [n for n in z.namelist() if n.endswith(".dist-info/METADATA")]
        todo = [(Requirement(r), "") for r in Parser().parsestr(z.read(meta).decode()).get_all("Requires-Dist")]
    extras, dists = {}, {}
    while todo:
        req, extra = todo.pop()
        if req.marker and not req.marker.evaluate({"extra": extra}):
            continue
        name = canonicalize_name(req.name)
        asked = set(req.extras) - extras.get(name, set())
        if name in extras and not asked:
            continue
        extras.setdefault(name, set()).update(asked)
        dists[name] = dist = distribution(req.name)
        assert dist.version in req.specifier, f"{name} {dist.version} does not meet {req}"
        todo += [(Requirement(r), e) for r in dist.requires or [] for e in ("", *sorted(asked))]
    return list(dists.values())


def _link_requirements(wheel: Path, site: Path, folder: Path) -> int:
    """Make this environment's copies of the wheel's requirements (its declared dependencies and
    theirs, torch's 700 MB among them) visible to a venv (its site-packages ``site``) through a ``.pth`` file instead of
    unpacking them again: two minutes of the test that are not the wheel's. Only what the wheel
    declares is linked, so an import it does not declare still fails; pip still resolves the wheel's
    requirements against the links, and never removes them: they lie outside that environment.
    Returns how many distributions were linked."""
    folder.mkdir()
    dists = _requirement_closure(wheel)
    for dist in dists:
        home = Path(dist.locate_file(""))
        for top in {Path(str(f)).parts[0] for f in dist.files or []} - {"..", "__pycache__"}:
            if (home / top).exists() and not (folder / top).exists():
                (folder / top).symlink_to(home / top)
    (site / "bitfold-test-requirements.pth").write_text(f"{folder}\n")
    return len(dists)


@pytest.mark.slow
def test_wheel_in_a_fresh_venv(tmp_path):
    # build from a copy of the sources: the build leaves nothing in the checkout
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for pkg in ("bnn", "hw", "sim", "bitfold"):
        shutil.copytree(ROOT / pkg, src / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", tmp_path / "dist",
          src])
    (wheel,) = (tmp_path / "dist").glob("bitfold-*.whl")

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", venv])
    py = venv / "bin" / "python"
    (site,) = (venv / "lib").glob("python*/site-packages")
    assert _link_requirements(wheel, site, tmp_path / "requirements") > 20  # torch's CPU build among them
    before = {p.name.split("-")[0] for p in site.glob("*.dist-info")}  # pip's own (and setuptools)
    # --no-compile: byte-compiling every dependency (yosys, nextpnr, onnx, scipy...) doubles the install
    # and is not the wheel's business; what bitfold imports is compiled as it is imported
    _run([py, "-m", "pip", "install", "-q", "--no-compile", wheel])
    assert site == Path(_run([py, "-c", "import hw, os; print(os.path.dirname(os.path.dirname(hw.__file__)))"],
                             cwd=tmp_path).stdout.strip())
    # the links satisfied every requirement: pip installed the wheel alone (and may have upgraded
    # what the fresh environment came with)
    assert {p.name.split("-")[0] for p in site.glob("*.dist-info")} - before == {"bitfold"}
    for rel in PACKAGE_DATA:
        assert (site / rel).is_file(), rel
    installed = {pkg: _tree(site / pkg) for pkg in ("bnn", "hw", "sim", "bitfold")}

    work = tmp_path / "work"  # a user's folder, far from the checkout
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BITFOLD_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(HOME=str(tmp_path / "home"), PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}")
    env.pop("XDG_CACHE_HOME", None)
    bitfold = venv / "bin" / "bitfold"

    def bf(*argv, umask=0o022):
        proc = _run([bitfold, *argv, "--json"], cwd=work, env=env, preexec_fn=lambda: os.umask(umask))
        return json.loads(proc.stdout.strip().splitlines()[-1])

    r = bf("train", "--model", "digits-mlp", "--epochs", "1", "--out", "runs/dm", umask=0o027)
    assert r["dataset"] == "digits"
    assert bf("check", "runs/dm", "--images", "40")["ok"]
    c = bf("compile", "runs/dm", "--target-cycles", "300")
    assert c["cycles_per_image"] <= 300
    for family in ("xc7", "ecp5"):
        e = bf("estimate", "runs/dm", "--family", family)
        assert e["total"]["lut"] > 0 and Path(e["calibration"]) == site / "hw/estimate/calibration.json"
    s = bf("summary", "runs/dm")
    assert s["mismatches_torch"] == 0 and "cycles_per_image_analytic" in s

    # nothing written beside the package or in the current folder but the run itself
    assert {pkg: _tree(site / pkg) for pkg in installed} == installed
    assert sorted(p.name for p in work.iterdir()) == ["runs"]
    # modes follow the umask: train ran under 027, compile under 022
    run = work / "runs" / "dm"
    assert stat.S_IMODE(run.stat().st_mode) == 0o750
    assert stat.S_IMODE((run / "ir.json").stat().st_mode) == 0o640
    assert stat.S_IMODE((run / "rtl").stat().st_mode) == 0o755
    assert stat.S_IMODE((run / "rtl" / "manifest.json").stat().st_mode) == 0o644
    assert stat.S_IMODE((run / "check.json").stat().st_mode) == 0o644
