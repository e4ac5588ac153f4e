import json

import pytest

from bitfold.schema import SCHEMAS, load_ir, parse_json, read_json, schema, validate
from hw.errors import BitfoldError


def test_every_schema_is_versioned_and_loads():
    for kind in SCHEMAS:
        doc = schema(kind)
        assert doc["$id"].endswith(f"/{kind}-1.json") and doc["title"]


@pytest.mark.parametrize(("doc", "message"), [
    ({"Gemm_0": {"pe": "2"}}, 'f.json: Gemm_0.pe: expected an integer, found the string "2" (schema fold-1)'),
    ({"Gemm_0": {"pe": 2, "simd": 0}}, "f.json: Gemm_0.simd: expected a value at least 1, found the number 0 "
                                       "(schema fold-1)"),
    ({"Gemm_0": {"pe": 2, "mode": "rom"}}, 'f.json: Gemm_0.mode: expected one of "memory", "constant", null, found '
                                           'the string "rom" (schema fold-1)'),
    ({"Gemm_0": {"pe": 2, "fold": 1}}, "f.json: Gemm_0: Additional properties are not allowed ('fold' was "
                                       "unexpected) (schema fold-1)"),
    ([1], "f.json: the top level: expected an object, found an array of 1 (schema fold-1)"),
])
def test_errors_say_where_and_what(doc, message):
    with pytest.raises(BitfoldError) as e:
        validate(doc, "fold", "f.json")
    assert str(e.value) == message and e.value.where == "f.json"


def test_broken_json_files(tmp_path):
    p = tmp_path / "x.json"
    for data, message in [(b"", "empty file (expected JSON)"), (b'{"a": \xff}', "not UTF-8 text (byte 6); the file "
                                                                                "is corrupt"),
                          (b'{"a": [1, 2', "not valid JSON (Expecting ',' delimiter: line 1 column 12); the file "
                                           "is truncated or corrupt")]:
        with pytest.raises(BitfoldError) as e:
            parse_json(data, p)
        assert str(e.value) == f"{p}: {message}"
    with pytest.raises(BitfoldError, match=r"x.json: missing$"):
        read_json(p)


def test_ir_round_trip_and_its_checks(tmp_path):
    from irgraphs import small_graph

    g = small_graph()
    p = tmp_path / "ir.json"
    p.write_text(g.to_json())
    assert load_ir(p).to_json() == g.to_json()
    doc = json.loads(g.to_json())
    doc["nodes"][0]["op"] = "Softmax"
    p.write_text(json.dumps(doc))
    with pytest.raises(BitfoldError, match=r"^.*ir.json: nodes\[0\].op: expected one of \"Quantize\", .* found the "
                                           r"string \"Softmax\" \(schema ir-1\)$"):
        load_ir(p)
    doc = json.loads(g.to_json())
    doc["version"] = 2
    p.write_text(json.dumps(doc))
    with pytest.raises(BitfoldError, match=r"ir.json: version: expected 1, found the number 2 \(schema ir-1\)$"):
        load_ir(p)
