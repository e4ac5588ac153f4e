"""Ctrl-C at any moment of any verb leaves each result as it was or complete and new.

Every file and folder bitfold makes visible goes through one step, :func:`hw.io.commit` (a rename,
or the exchange of two folders). The in-process tests raise ``KeyboardInterrupt`` at each such step
of a verb, before it and after it, and check the run: the verb exits 130, every result is the old
one or passes its checks (schema, digest, the compiled design against its manifest), no temporary
file or work folder is left behind, and the verb then runs to completion. A subprocess test sends
a real SIGINT to ``bitfold compile`` at several moments.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clirun import FULL_RUN_FAMILY, cli, copy_run, run_files
from hw import io as hwio

pytestmark = [pytest.mark.verilator, pytest.mark.synth, pytest.mark.slow]

VERBS = {
    "check": ["{run}", "--images", "8"],
    "compile": ["{run}", "--target-cycles", "600"],  # another folding than the run's: a real recompile
    "sim": ["{run}", "--images", "3"],
    "synth": ["{run}", "--family", FULL_RUN_FAMILY, "--total-only"],
    "report": ["{run}", "--family", FULL_RUN_FAMILY, "--no-synth"],
    "import": ["{run}/model.qonnx.onnx", "--out", "{run}", "--dataset", "digits", "--force"],
}


def _commits(monkeypatch, stop=None, after=False):
    """Record every commit's destination (cache entries aside, a run's or the user cache's: they
    are content-addressed, made once); with ``stop`` = k raise KeyboardInterrupt at the k-th,
    before doing it or (``after``) once it is done."""
    seen = []
    real = hwio.commit

    def commit(src, dst, exchange=False):
        if "cache" in Path(dst).parts or Path(dst).is_relative_to(hwio.user_cache()):
            return real(src, dst, exchange)
        seen.append(Path(dst))
        if len(seen) == stop and not after:
            raise KeyboardInterrupt
        done = real(src, dst, exchange)
        if len(seen) == stop and after:
            raise KeyboardInterrupt
        return done

    monkeypatch.setattr(hwio, "commit", commit)
    return seen


def _visible(dst: Path) -> bool:
    """A commit that publishes (its destination is not inside a temporary folder)."""
    return not any(part.endswith(".tmp") for part in dst.parts)


def _leftovers(run: Path):
    return sorted(str(p.relative_to(run)) for p in run.rglob("*")
                  if "cache" not in p.relative_to(run).parts
                  and (p.name.endswith(".tmp") or p.name.startswith(("work-", ".rtl.", ".report.", ".dm."))))


def _consistent(run: Path, before: dict, verb: str):
    """Every result is readable and checks out, or is the old file; rtl/ is the old one or a
    complete design; a run replaced by `import --force` is the old run or the complete new one."""
    from bitfold.provenance import RESULT_KINDS, read_result
    from bitfold.runs import compiled, open_run
    from bitfold.schema import load_ir

    after = run_files(run)
    if verb == "import":
        if after != before:
            assert sorted(after) == ["config.json", "ir.json", "model.qonnx.onnx"]
            load_ir(run / "ir.json")
        return
    for rel in RESULT_KINDS:
        if rel in after and after[rel] != before.get(rel):
            read_result(run, rel)  # complete and untampered (raises otherwise)
    rtl_changed = any(after.get(r) != before.get(r) for r in set(after) | set(before) if r.startswith("rtl/"))
    if rtl_changed:
        compiled(open_run(run))
    for rel in ("report/report.md", "report/report_luts.png"):
        if rel in after and after[rel] != before.get(rel):
            assert "report/report.json" in after and after["report/report.json"] != before.get("report/report.json")


@pytest.mark.parametrize("verb", VERBS)
def test_ctrl_c_at_every_step(verb, full_run, tmp_path, capsys, monkeypatch):
    def argv(run):
        return [verb, *[a.format(run=run) for a in VERBS[verb]]]

    probe = copy_run(full_run, tmp_path / "probe")
    with monkeypatch.context() as m:
        steps = _commits(m)
        assert cli(capsys, *argv(probe))[0] == 0
    visible = [i + 1 for i, d in enumerate(steps) if _visible(d)]
    assert visible, steps
    points = [(k, after) for k in visible for after in (False, True)] + [(1, False)]  # and before anything
    for n, (k, after) in enumerate(points):
        run = copy_run(full_run, tmp_path / f"r{n}")
        before = run_files(run)
        with monkeypatch.context() as m:
            _commits(m, stop=k, after=after)
            code, _, err = cli(capsys, *argv(run))
        where = f"{verb}: Ctrl-C {'after' if after else 'at'} step {k} of {len(steps)}"
        assert code == 130 and err.endswith(f"bitfold {verb}: error: interrupted\n"), f"{where}: {code} {err}"
        assert _leftovers(run) == [], where
        _consistent(run, before, verb)
    code, _, err = cli(capsys, *argv(run))  # and it runs to the end afterwards
    assert code == 0, err


def test_sigint_to_compile(full_run, tmp_path):
    """A real Ctrl-C (SIGINT) to a `bitfold compile` process at several moments."""
    from bitfold.runs import compiled, open_run

    env = dict(os.environ, PYTHONUNBUFFERED="1")
    outcomes = set()
    for n, delay in enumerate((0.5, 2.0, 3.5, 5.0, 8.0)):
        run = copy_run(full_run, tmp_path / f"r{n}")
        before = run_files(run)
        # SIGINT at its default in the child, even where the test runner was started with it ignored
        # (a background job of a non-interactive shell), which the child would inherit
        proc = subprocess.Popen([sys.executable, "-m", "bitfold.cli", "compile", str(run), "--fold", "parallel",
                                 "--no-cache"],  # elaborating, not reading the Verilog cache
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode in (0, 130), err
        assert "Traceback" not in err
        outcomes.add(proc.returncode)
        assert _leftovers(run) == []
        after = run_files(run)
        old = all(after.get(r) == before.get(r) for r in set(after) | set(before) if r.startswith("rtl/"))
        if not old:
            c = compiled(open_run(run))  # the complete new design
            assert c.manifest["provenance"]["options"]["fold"] == "parallel"
        else:
            assert proc.returncode == 130
    assert 130 in outcomes
