import torch

from bnn.layers import ScoreLinear


def test_scores_are_integers_and_logit_scale_keeps_argmax():
    torch.manual_seed(0)
    layer = ScoreLinear(33, 10).eval()
    x = torch.randint(0, 2, (20, 33)) * 2.0 - 1.0
    s = layer(x)
    assert torch.equal(s, s.round()) and s.abs().max() <= 33
    assert torch.equal(layer.logits(s).argmax(1), s.argmax(1))
