import numpy as np
import pytest
import torch

from bnn.data import as_float
from bnn.layers import InputQuant
from hw.errors import BitfoldError

U8 = np.arange(256, dtype=np.uint8)


def test_eight_bit_input_gives_the_pixel_byte():
    y = InputQuant(8)(torch.from_numpy(as_float(U8)))
    assert np.array_equal((y * 256).numpy(), U8.astype(np.float32))


def test_binarized_input_thresholds_at_half():
    y = InputQuant(1)(torch.from_numpy(as_float(U8)))
    assert np.array_equal(y.numpy() > 0, U8 >= 128)  # pixel >= 0.5


def test_k_bit_unsigned_and_signed_codes():
    x = torch.from_numpy(as_float(U8))
    y4 = InputQuant(4)(x) * 16
    assert np.array_equal(y4.numpy(), np.clip(np.round(U8 / 16), 0, 15))
    y8s = InputQuant(8, signed=True)(x) * 128
    assert np.array_equal(y8s.numpy(), U8.astype(np.float32) - 128)


def test_signed_binarized_is_rejected():
    with pytest.raises(BitfoldError, match=r"binarized input \(bits=1\) is always bipolar"):
        InputQuant(1, signed=True)
