import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from bnn.layers import BinaryLinear


@settings(max_examples=25, deadline=None)
@given(k=st.integers(1, 300), o=st.integers(1, 40), seed=st.integers(0, 2**16))
def test_binary_linear_is_xnor_popcount(k, o, seed):
    torch.manual_seed(seed)
    layer = BinaryLinear(k, o).eval()
    x_bits = torch.randint(0, 2, (7, k))
    y = layer(2.0 * x_bits - 1.0)
    w = layer.weight_bits()
    xnor = (x_bits.numpy()[:, None, :] == w[None, :, :]).sum(-1)
    assert np.array_equal(y.detach().numpy(), 2 * xnor - k)


def test_binary_linear_on_k_bit_input_adds_and_subtracts():
    torch.manual_seed(1)
    layer = BinaryLinear(50, 6).eval()
    codes = torch.randint(0, 256, (4, 50))
    y = layer(codes / 256.0) * 256
    w = layer.weight_bits()
    want = codes.numpy() @ (2 * w.astype(np.int64) - 1).T
    assert np.array_equal(y.detach().numpy(), want)


def test_latent_weights_stay_clipped_and_train():
    torch.manual_seed(2)
    layer = BinaryLinear(8, 3)
    opt = torch.optim.SGD(layer.parameters(), lr=10.0)
    layer(torch.ones(2, 8)).sum().backward()
    opt.step()
    layer(torch.ones(2, 8))  # the in-place clamp happens on the forward pass
    assert layer.weight.abs().max() <= 1.0
