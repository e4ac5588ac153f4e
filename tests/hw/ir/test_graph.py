import numpy as np
import pytest

from hw.errors import BitfoldError
from hw.ir.graph import Graph, Quantize, TensorType
from hw.ir.verify import verify
from irgraphs import small_graph


def test_json_round_trip_is_exact():
    g = verify(small_graph())
    h = Graph.from_json(g.to_json())
    assert h.to_json() == g.to_json()
    for a, b in zip(g.nodes, h.nodes, strict=True):
        assert type(a) is type(b) and a.name == b.name and a.out == b.out
    assert np.array_equal(h["c"].weights, g["c"].weights) and h["c"].weights.dtype == np.uint8
    assert np.array_equal(h["t"].directions, g["t"].directions)
    bn = h["bn"].ops[0][1]
    assert bn[2].dtype == np.float32 and np.array_equal(bn[2], np.arange(4, dtype=np.float32))


def test_rejects_foreign_documents():
    with pytest.raises(BitfoldError, match=r'^not a bitfold IR document \(missing "format": "bitfold-ir"\)$'):
        Graph.from_dict({"nodes": []})
    with pytest.raises(BitfoldError, match=r"^IR file is not valid JSON"):
        Graph.from_json("{")
    with pytest.raises(BitfoldError, match=r"^IR node op 'Softmax' is unknown"):
        Graph.from_dict({"format": "bitfold-ir", "version": 1, "input": {"shape": [1], "kind": "float", "lo": 0,
                                                                         "hi": 1, "scale": 1.0},
                         "nodes": [{"op": "Softmax"}]})


def test_duplicate_names():
    q = Quantize("q", TensorType((2,), "bits"), bipolar=True)
    with pytest.raises(BitfoldError, match=r"^IR node names must be unique; repeated: q$"):
        Graph(TensorType((2,), "float"), (q, q))


def test_tensor_type_widths():
    assert TensorType((1,), "int", 0, 255).bits == 8
    assert TensorType((1,), "int", -128, 127).bits == 8
    assert TensorType((1,), "int", -129, 127).bits == 9
    assert TensorType((1,), "bits").bits == 1
