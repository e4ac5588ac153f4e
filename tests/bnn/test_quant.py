import pytest
import torch
from brevitas.nn import QuantIdentity

from bnn.quant import BinaryActQuant, input_scale, int_input_quant
from hw.errors import BitfoldError


def test_binary_act_sign_of_zero_is_plus_one_and_ste():
    act = QuantIdentity(act_quant=BinaryActQuant)
    x = torch.tensor([-2.0, -0.5, -0.0, 0.0, 1e-30, 0.5, 2.0], requires_grad=True)
    y = act(x)
    assert y.tolist() == [-1, -1, 1, 1, 1, 1, 1]
    y.sum().backward()
    # straight-through inside [-1, 1], zero outside (hard tanh)
    assert x.grad.tolist() == [0, 1, 1, 1, 1, 1, 0]


@pytest.mark.parametrize("bits,signed", [(2, False), (4, False), (8, False), (2, True), (5, True), (8, True)])
def test_int_input_quant_scale_is_exact_power_of_two(bits, signed):
    q = QuantIdentity(act_quant=int_input_quant(bits, signed), return_quant_tensor=True)
    x = torch.linspace(-1.5, 1.5, 2001)
    y = q(x)
    assert y.scale.item() == input_scale(bits, signed) == 2.0 ** -(bits - 1 if signed else bits)
    codes = y.value / y.scale
    assert torch.equal(codes, codes.round())
    lo, hi = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else (0, 2**bits - 1)
    assert codes.min().item() == lo and codes.max().item() == hi


def test_int_input_quant_rejects_bad_widths():
    with pytest.raises(BitfoldError, match=r"^input bit width must be an integer from 1 to 16, not 0$"):
        int_input_quant(0, False)
    with pytest.raises(BitfoldError, match=r"^a signed input needs at least 2 bits"):
        int_input_quant(1, True)
