"""Versioned JSON schemas of the files bitfold reads, and loading that validates on the way in.

The schemas live in ``bitfold/schemas/<kind>-<version>.json`` (JSON Schema 2020-12):
``ir`` (``ir.json``, ``rtl/ir.hw.json``), ``manifest``, ``report``, ``check``, ``sim``, ``synth``,
``config``, ``fold``, ``metrics`` and ``calibration``; ``common`` holds the shared definitions (the
provenance block). A result file names its schema with ``"format": "bitfold-<kind>"`` and
``"version"``.

Every failure is a :class:`BitfoldError` that names the file and the place in it:
``build/x/rtl/manifest.json: layers[2].pe: expected an integer, found the string "2"``.
"""

import binascii
import functools
import json
from pathlib import Path

from hw.errors import BitfoldError

__all__ = ["SCHEMAS", "VERSIONS", "schema", "validate", "parse_json", "read_json", "load_ir", "describe"]

FOLDER = Path(__file__).with_name("schemas")
VERSIONS = {"ir": 1, "manifest": 1, "report": 1, "check": 1, "sim": 1, "synth": 1, "config": 1, "fold": 1,
            "metrics": 1, "calibration": 1, "deploy": 1}
SCHEMAS = tuple(VERSIONS)


@functools.cache
def _registry():
    from referencing import Registry, Resource

    resources = []
    for path in sorted(FOLDER.glob("*.json")):
        doc = json.loads(path.read_text())
        resources.append((doc["$id"], Resource.from_contents(doc)))
    return Registry().with_resources(resources)


@functools.cache
def _validator(kind: str):
    from jsonschema import Draft202012Validator

    doc = schema(kind)
    return Draft202012Validator(doc, registry=_registry())


def schema(kind: str) -> dict:
    """The JSON schema of ``kind`` (see :data:`SCHEMAS`) at its current version."""
    if kind not in VERSIONS:
        raise ValueError(f"no schema named {kind!r}; known: {', '.join(SCHEMAS)}")
    return json.loads((FOLDER / f"{kind}-{VERSIONS[kind]}.json").read_text())


def _json_type(v) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f"the string {json.dumps(v if len(v) <= 40 else v[:40] + '...')}"
    if isinstance(v, int | float):
        return f"the number {v!r}"
    if isinstance(v, list):
        return f"an array of {len(v)}"
    return "an object"


_ARTICLE = {"integer": "an integer", "number": "a number", "string": "a string", "boolean": "true or false",
            "array": "an array", "object": "an object", "null": "null"}


def _where(path) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "the top level"


def describe(error) -> str:
    """One line for a ``jsonschema`` error: where in the document, and what was expected."""
    v, val, inst = error.validator, error.validator_value, error.instance
    if v == "type":
        kinds = [val] if isinstance(val, str) else list(val)
        what = f"expected {' or '.join(_ARTICLE.get(k, k) for k in kinds)}, found {_json_type(inst)}"
    elif v == "enum":
        what = f"expected one of {', '.join(json.dumps(x) for x in val)}, found {_json_type(inst)}"
    elif v == "const":
        what = f"expected {json.dumps(val)}, found {_json_type(inst)}"
    elif v in ("minItems", "maxItems"):
        what = f"expected {'at least' if v == 'minItems' else 'at most'} {val} items, found {len(inst)}"
    elif v in ("oneOf", "anyOf"):
        what = f"{_json_type(inst)} is none of the accepted forms"
    elif v == "pattern":
        what = f"{_json_type(inst)} does not match {val}"
    elif v in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        bound = {"minimum": "at least", "maximum": "at most", "exclusiveMinimum": "more than",
                 "exclusiveMaximum": "less than"}[v]
        what = f"expected a value {bound} {val}, found {_json_type(inst)}"
    elif v == "propertyNames":
        what = f"unexpected key {_json_type(inst)}"
    else:
        what = error.message if len(error.message) <= 160 else error.message[:160] + "..."
    return f"{_where(error.absolute_path)}: {what}"


def validate(doc, kind: str, path) -> dict:
    """Return ``doc`` if it follows schema ``kind``; else raise naming ``path`` and the place."""
    from jsonschema.exceptions import best_match

    err = best_match(_validator(kind).iter_errors(doc))
    if err is not None:
        version = VERSIONS[kind]
        raise BitfoldError(f"{path}: {describe(err)} (schema {kind}-{version})", where=path)
    return doc


def parse_json(data: bytes, path):
    """Bytes of a JSON file -> the document; a clear error for an empty, non-UTF-8 or broken file."""
    if not data.strip():
        raise BitfoldError(f"{path}: empty file (expected JSON)", where=path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise BitfoldError(f"{path}: not UTF-8 text (byte {e.start}); the file is corrupt", where=path) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise BitfoldError(f"{path}: not valid JSON ({e.msg}: line {e.lineno} column {e.colno}); "
                           "the file is truncated or corrupt", where=path) from None
    except RecursionError:
        raise BitfoldError(f"{path}: not valid JSON (nested too deeply)", where=path) from None


def read_json(path, kind: str | None = None, data: bytes | None = None):
    """Read, parse and (with ``kind``) validate a JSON file. ``data``: its bytes, if already read."""
    path = Path(path)
    if data is None:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise BitfoldError(f"{path}: missing", where=path) from None
        except IsADirectoryError:
            raise BitfoldError(f"{path}: is a folder, expected a JSON file", where=path) from None
    doc = parse_json(data, path)
    return validate(doc, kind, path) if kind else doc


def load_ir(path, data: bytes | None = None):
    """An IR file (``ir.json``, ``rtl/ir.hw.json``) -> a verified :class:`~hw.ir.graph.Graph`.

    Three layers of checks, each failure naming the file: the schema (form and encodings), the
    decoding (base64 bits, array sizes against shapes, MST schedules), then
    :func:`hw.ir.verify.verify` (weight shapes, threshold lengths, ranges chain node to node).
    """
    from hw.ir.graph import Graph
    from hw.ir.verify import verify

    doc = read_json(path, "ir", data)
    try:
        graph = Graph.from_dict(doc)
    except BitfoldError as e:
        raise BitfoldError(f"{path}: {e}", where=path) from None
    except binascii.Error as e:
        raise BitfoldError(f"{path}: a bit array is not valid base64 ({e})", where=path) from None
    except (ValueError, TypeError, KeyError, IndexError) as e:
        raise BitfoldError(f"{path}: the IR does not decode ({type(e).__name__}: {e})", where=path) from None
    try:
        return verify(graph)
    except BitfoldError as e:
        raise BitfoldError(f"{path}: {e}", where=path) from None
