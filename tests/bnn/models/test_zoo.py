import pytest
import torch

from bnn.layers import ScoreLinear
from bnn.models import MODELS, build, defaults
from hw.errors import BitfoldError

SHAPES = {"digits-mlp": (1, 8, 8)}
OBSERVED = {"tfc": 5, "sfc": 5, "lfc": 5, "cnv-mnist": 9, "digits-mlp": 4,
            "jet-mnist": 9, "jet-full-mnist": 9, "mst-cnv-mnist": 9}


@pytest.mark.parametrize("name", MODELS)
def test_zoo_model_builds_and_traces(name):
    torch.manual_seed(0)
    shape = SHAPES.get(name, (1, 28, 28))
    m = build(name, in_shape=shape).eval()
    scores, seen = m.trace(torch.rand(3, *shape))
    assert scores.shape == (3, 10)
    assert torch.equal(scores, scores.round())
    assert len(seen) == OBSERVED[name]
    assert isinstance(m.score_layer, ScoreLinear)
    assert m.config["model"] == name
    assert defaults(name)["dataset"] in ("mnist", "digits")


def test_fc_widths():
    m = build("sfc")
    widths = [layer.out_features for layer in m.modules() if hasattr(layer, "out_features")]
    assert widths == [256, 256, 256, 10]


def test_unknown_model():
    with pytest.raises(BitfoldError, match=r"^unknown model 'vgg'; the zoo has: tfc, sfc, lfc, cnv-mnist, digits-mlp, "
                       r"jet-mnist, jet-full-mnist, mst-cnv-mnist$"):
        build("vgg")
