import numpy as np
import pytest
import torch
import torch.nn.functional as F

from bnn.layers import JetConv2d
from hw.errors import BitfoldError
from hw.ir.jets import decompose


def test_choice_trains_and_finalizes_to_one_signed_jet_per_pair():
    torch.manual_seed(0)
    layer = JetConv2d(2, 6)
    x = torch.rand(4, 2, 9, 9)
    layer(x).square().mean().backward()
    assert layer.logits.grad.abs().sum() > 0 and layer.sign.grad.abs().sum() > 0
    layer.on_epoch(9, 10)
    assert layer.hard
    layer.finalize()
    layer.eval()
    coeffs = decompose(layer.integer_kernels())
    assert np.array_equal(np.abs(coeffs).sum(axis=-1), np.ones((6, 2)))  # exactly one ±jet per (o, c)
    k = torch.tensor(layer.integer_kernels(), dtype=torch.float32)
    assert torch.equal(layer(x), F.conv2d(x, k))


def test_full_variant_and_schedule():
    torch.manual_seed(1)
    layer = JetConv2d(1, 3, variant="full")
    layer.finalize()
    assert set(np.unique(decompose(layer.integer_kernels()))) <= {-1, 1}
    c = JetConv2d(1, 1, tau_start=1.0, tau_end=0.01, hard_epochs=2)
    c.on_epoch(0, 10)
    assert c.tau == 1.0 and not c.hard
    c.on_epoch(7, 10)
    assert c.tau == pytest.approx(0.01) and not c.hard
    c.on_epoch(8, 10)
    assert c.hard
    with pytest.raises(BitfoldError, match=r"^JetConv2d variant must be 'constrained' or 'full', not 'soft'$"):
        JetConv2d(1, 1, variant="soft")


def test_finalized_flag_survives_the_state_dict():
    layer = JetConv2d(1, 2)
    layer.finalize()
    other = JetConv2d(1, 2)
    other.load_state_dict(layer.state_dict())
    assert other.finalized
