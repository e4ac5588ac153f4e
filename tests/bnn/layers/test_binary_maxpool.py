import torch

from bnn.layers import BinaryMaxPool2d


def test_maxpool_of_plus_minus_one_is_or_of_bits():
    torch.manual_seed(0)
    bits = torch.randint(0, 2, (3, 4, 6, 6))
    y = BinaryMaxPool2d(2)(2.0 * bits - 1.0)
    ored = bits.reshape(3, 4, 3, 2, 3, 2).amax(dim=(3, 5))
    assert torch.equal((y > 0).long(), ored)
