import numpy as np
import pytest
import torch
import torch.nn.functional as F

from bnn.layers import BinaryConv2d
from hw.errors import BitfoldError


@pytest.mark.parametrize("pad_value", [-1.0, 1.0])
@pytest.mark.parametrize("padding,stride", [(0, 1), (1, 1), (1, 2), (2, 1)])
def test_binary_conv_pads_with_a_binary_value(padding, stride, pad_value):
    torch.manual_seed(padding * 10 + stride)
    conv = BinaryConv2d(3, 5, 3, stride=stride, padding=padding, pad_value=pad_value).eval()
    x = torch.randint(0, 2, (2, 3, 7, 6)) * 2.0 - 1.0
    y = conv(x)
    w = 2.0 * torch.from_numpy(conv.weight_bits()).float() - 1.0
    xp = F.pad(x, (padding,) * 4, value=pad_value)
    assert torch.equal(y, F.conv2d(xp, w, stride=stride))
    assert set(np.unique(xp.numpy())) <= {-1.0, 1.0}  # no zero enters the binary datapath


def test_bad_pad_value():
    with pytest.raises(BitfoldError, match=r"^BinaryConv2d pad_value must be -1, 0 or \+1, not 0.5$"):
        BinaryConv2d(1, 1, 3, padding=1, pad_value=0.5)
