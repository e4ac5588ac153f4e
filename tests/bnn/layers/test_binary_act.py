import torch

from bnn.layers import BinaryAct


def test_binary_act_outputs_plus_minus_one_and_bits():
    act = BinaryAct()
    x = torch.tensor([[-3.0, -1e-7, 0.0, 2.5]])
    y = act(x)
    assert y.tolist() == [[-1.0, -1.0, 1.0, 1.0]]
    assert BinaryAct.bits(y).tolist() == [[0, 0, 1, 1]]
