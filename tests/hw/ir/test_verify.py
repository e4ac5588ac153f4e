import numpy as np
import pytest

from hw.errors import BitfoldError
from hw.ir.graph import TensorType
from hw.ir.verify import verify
from irgraphs import small_graph


def _broken(name, **changes):
    g = small_graph()
    return g.replace([n.replace(**changes) if n.name == name else n for n in g.nodes])


@pytest.mark.parametrize("name,changes,message", [
    ("d", {"weights": np.zeros((5, 15), np.uint8)}, r"node d \(Dense\): weights \(5, 15\) do not map input \(16,\)"),
    ("c", {"out": TensorType((4, 4, 4), "int", 0, 1)}, r"node c \(Conv\): accumulator range \[0, 1\] differs"),
    ("p", {"kernel": (3, 3)}, r"node p \(MaxPool\): output shape \(4, 2, 2\) does not match kernel"),
    ("t", {"directions": np.array([1, 0, 1, 1, 1], np.int8)}, r"node t \(Threshold\): directions must be \+1 or -1"),
    ("sc", {"sign": 2}, r"node sc \(Scores\): must map the last accumulator"),
])
def test_verify_names_the_broken_node(name, changes, message):
    with pytest.raises(BitfoldError, match=r"^IR check failed after test-pass: " + message):
        verify(_broken(name, **changes), "test-pass")
