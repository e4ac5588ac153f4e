import torch

from bnn.models import build
from bnn.mst import MSTRegularizer, mst_layers


def test_regularized_layers_skip_k_bit_input_and_scores():
    m = build("cnv-mnist")
    names = [type(layer).__name__ for layer in mst_layers(m)]
    assert names == ["BinaryConv2d", "BinaryConv2d", "BinaryConv2d", "BinaryLinear"]


def test_penalty_gradient_shortens_the_tree():
    torch.manual_seed(0)
    m = build("digits-mlp", in_shape=(1, 8, 8))
    reg = MSTRegularizer(m, lam=1.0, every=10)
    before = reg.compression()
    opt = torch.optim.SGD([p for layer in reg.layers for p in layer.parameters()], lr=50.0)
    for step in range(60):
        opt.zero_grad()
        reg.penalty(step).backward()
        opt.step()
    assert reg.compression() > 1.5 * before
