"""The `bitfold` command against damaged run folders.

Each case copies a complete small run (:func:`full_run`: digits-mlp with check, compile, sim, synth
and report results), damages one file (truncated, emptied, bytes flipped; for JSON also values of
the wrong type, lists of the wrong length, extra keys) and runs every verb that reads that file.
Which files a verb reads is measured, not assumed: each verb runs once on the intact run with an
audit hook recording what it opens; a verb that never opens a file behaves the same whether it is
damaged or not. Every run must

* exit 0, 1 or 2, never with a traceback; exit 2 with one line ``bitfold VERB: error: ...`` on
  stderr and ``{"error", "where"}`` as the last line of stdout (every verb runs with ``--json``),
  exit 0 or 1 with the verb's result JSON there;
* leave every file it does not own as it was (and on exit 2, every file at all);
* (``summary``) show no result computed from the damaged file.
"""

import json
import os
import sys
from pathlib import Path

import pytest

from clirun import FULL_RUN_FAMILY, cli, copy_run, last_json, run_files

pytestmark = [pytest.mark.verilator, pytest.mark.synth, pytest.mark.slow]

# verb -> arguments; compile runs last in a case (it rewrites the design the others read)
VERBS = {
    "summary": ["{run}"],
    "check": ["{run}", "--images", "8"],
    "estimate": ["{run}", "--family", "xc7"],
    "sim": ["{run}", "--images", "2"],
    "lint": ["{run}"],
    "synth": ["{run}", "--family", FULL_RUN_FAMILY, "--total-only"],
    "report": ["{run}", "--family", FULL_RUN_FAMILY, "--no-synth"],
    "bench": ["reference", "--run", "{run}"],
    "import": ["{run}/model.qonnx.onnx", "--out", "{new}", "--dataset", "digits"],
    "compile": ["{run}", "--target-cycles", "300"],
}
# what each verb may change in the run folder (compile removes the results it invalidated)
OWNS = {
    "check": ("check.json",),
    "sim": ("sim/sim.json", "sim/waves.fst"),
    "synth": (f"synth/{FULL_RUN_FAMILY}.json",),
    "report": ("report/",),
    "compile": ("rtl/", "sim/sim.json", "sim/waves.fst", "synth/", "report/"),
}
RESULT_KEYS = {"check.json": "images_checked", "rtl/manifest.json": "cycles_per_image_analytic",
               "sim/sim.json": "images_simulated"}

JSON_FILES = ["config.json", "metrics.json", "ir.json", "check.json", "rtl/manifest.json", "rtl/fold.json",
              "rtl/ir.hw.json", "sim/sim.json", f"synth/{FULL_RUN_FAMILY}.json",
              "report/report.json"]
OTHER_FILES = ["model.pt", "model.qonnx.onnx", "rtl/bitfold_top.v", "report/report.md", "report/report_luts.png"]


# -- damage ------------------------------------------------------------------------------------

def _paths(doc, kind, path=()):
    """Paths to every value of ``kind`` (int, str, list, dict) in a JSON document, depth first."""
    out = []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += _paths(v, kind, path + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            out += _paths(v, kind, path + (i,))
    if path and ((kind is int and type(doc) is int) or (kind is not int and isinstance(doc, kind))):
        out.append(path)
    return out


def _get(doc, path):
    for p in path:
        doc = doc[p]
    return doc


def _set(doc, path, value):
    _get(doc, path[:-1])[path[-1]] = value
    return doc


def _pick(paths, where):
    return paths[0] if where == "first" else paths[len(paths) // 2]


def _int_as_string(where):
    def f(doc):
        p = _pick(_paths(doc, int), where)
        return _set(doc, p, str(_get(doc, p)))
    return f


def _object_as_list(doc):
    return _set(doc, _pick(_paths(doc, dict), "first"), [])


def _string_as_number(doc):
    strings = _paths(doc, str)
    if not strings:  # no strings: a number where a name is expected
        return _set(doc, _pick(_paths(doc, int), "first"), "7")
    return _set(doc, _pick(strings, "middle"), 7)


def _drop_last(where):
    def f(doc):
        lists = [q for q in _paths(doc, list) if len(_get(doc, q)) >= 2]
        if not lists:  # no lists: an empty one where a number is expected
            return _set(doc, _pick(_paths(doc, int), where), [])
        _get(doc, _pick(lists, where)).pop()
        return doc
    return f


def _repeat_last(doc):
    lists = [q for q in _paths(doc, list) if len(_get(doc, q)) >= 1]
    if not lists:
        p = _pick(_paths(doc, int), "middle")
        return _set(doc, p, [_get(doc, p)] * 2)
    p = _pick(lists, "middle")
    _get(doc, p).append(_get(doc, p)[-1])
    return doc


def _extra_keys(doc):
    doc["bogus"] = 1
    inner = [p for p in _paths(doc, dict)]
    if inner:
        _get(doc, inner[len(inner) // 2])["bogus"] = [1]
    return doc


JSON_DAMAGE = {  # wrong types (three kinds), wrong shapes (a list short, a list long), extra keys
    "int-as-string": _int_as_string("middle"), "object-as-list": _object_as_list,
    "string-as-number": _string_as_number, "list-short": _drop_last("middle"), "list-long": _repeat_last,
    "extra-keys": _extra_keys,
}
BYTE_DAMAGE = {
    "truncated": lambda b: b[:len(b) // 2],
    "flipped": lambda b: bytes(c ^ 0x5A if i in {len(b) // 3, len(b) // 2, 2 * len(b) // 3} else c
                               for i, c in enumerate(b)),
}
CASES = [(f, d) for f in JSON_FILES + OTHER_FILES for d in BYTE_DAMAGE] + \
        [(f, d) for f in JSON_FILES for d in JSON_DAMAGE]


def damage(path, how):
    data = path.read_bytes()
    if how in BYTE_DAMAGE:
        new = BYTE_DAMAGE[how](data)
    else:
        doc = JSON_DAMAGE[how](json.loads(data))
        new = json.dumps(doc, indent=1).encode()
    assert new != data
    path.write_bytes(new)


# -- which files each verb reads ---------------------------------------------------------------

_OPENED = None


def _audit(event, args):
    if _OPENED is None or event != "open" or not args or not isinstance(args[0], str | bytes):
        return
    mode = args[1] if len(args) > 1 else None
    flags = args[2] if len(args) > 2 and isinstance(args[2], int) else 0
    reading = ("r" in mode and "+" not in mode) if isinstance(mode, str) else (flags & os.O_ACCMODE) == os.O_RDONLY
    if reading:
        _OPENED.add(os.fsdecode(args[0]))


@pytest.fixture(scope="session")
def reads(full_run, tmp_path_factory):
    """``{verb: set of run files it opens for reading}``, measured on an intact copy of the run."""
    global _OPENED
    import io
    from contextlib import redirect_stderr, redirect_stdout

    from bitfold.cli import main

    sys.addaudithook(_audit)
    root = tmp_path_factory.mktemp("reads")
    out = {}
    for verb, args in VERBS.items():
        run = copy_run(full_run, root / verb)
        _OPENED = set()
        with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()) as err:
            code = main([verb, *[a.format(run=run, new=root / f"{verb}-new") for a in args], "--json"])
        assert code == 0, err.getvalue()
        seen, _OPENED = _OPENED, None
        files = set()
        for p in seen:
            try:
                files.add(str(Path(p).resolve().relative_to(run.resolve())))
            except ValueError:
                continue
        out[verb] = files
    return out


def _affected(base, result, damaged, seen=()):
    """Is ``result`` (a results file of the intact run) computed from ``damaged``, directly or not?"""
    from bitfold.provenance import RESULT_KINDS

    if result == damaged:
        return True
    p = base / result
    if result not in RESULT_KINDS or not p.exists() or result in seen:
        return False  # not a result (config.json, ir.json, ...): computed from nothing in the run
    prov = json.loads(p.read_text())["provenance"]
    folder = result.rsplit("/", 1)[0] + "/" if "/" in result else ""
    if any(folder + name == damaged for name in prov.get("outputs", {})):
        return True
    return any(name == damaged or _affected(base, name, damaged, seen + (result,)) for name in prov["inputs"])


def _owned(verb, rel):
    return any(rel == o or (o.endswith("/") and rel.startswith(o)) for o in OWNS.get(verb, ()))


@pytest.mark.parametrize(("name", "how"), CASES, ids=[f"{f}:{d}" for f, d in CASES])
def test_damaged_file(name, how, full_run, reads, tmp_path, capsys):
    run = copy_run(full_run, tmp_path / "run")
    damage(run / name, how)
    ran = []
    for verb, args in VERBS.items():
        if name not in reads[verb]:
            continue  # never opened: cannot be affected
        ran.append(verb)
        before = run_files(run)
        argv = [verb, *[a.format(run=run, new=tmp_path / f"new-{verb}") for a in args], "--json"]
        code, out, err = cli(capsys, *argv)
        where = f"bitfold {' '.join(map(str, argv))} on {name} {how}"
        assert code in (0, 1, 2), f"{where}: exit {code}\n{err}"
        assert "Traceback" not in err, f"{where}:\n{err}"
        last = last_json(out)
        if code == 2:
            lines = err.rstrip("\n").split("\n")
            assert lines[0].startswith(f"bitfold {verb}: error: ") and all(x.startswith("    ") for x in lines[1:]), \
                f"{where}:\n{err}"
            assert set(last) == {"error", "where"} and last["error"].split("\n")[0] == lines[0].split(": error: ", 1)[1]
        else:
            assert "error" not in last, f"{where}: {last}"
        after = run_files(run)
        for rel in set(before) | set(after):
            if code == 2 or not _owned(verb, rel):
                assert before.get(rel) == after.get(rel), f"{where}: exit {code} changed {rel}"
        if verb == "summary" and code == 0:
            for result, key in RESULT_KEYS.items():
                if _affected(full_run, result, name):
                    assert key not in last, f"{where}: shows {result}, computed from the damaged {name}"
            if _affected(full_run, f"synth/{FULL_RUN_FAMILY}.json", name):
                assert FULL_RUN_FAMILY not in last.get("resources", {}), f"{where}: shows a synthesis of damaged input"
    # metrics.json is read only by `bench mst` (on runs it trains itself); every other file by summary
    assert ("summary" in ran) == (name != "metrics.json"), ran
