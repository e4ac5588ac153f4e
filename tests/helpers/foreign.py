"""Brevitas models written the way other people write them (not with bnn.layers), exported to QONNX.

They enter bitfold only through ``bitfold import``, as a user's model would. Each builder seeds its
own parameters, randomizes BatchNorm statistics (negative scales included) so thresholds are not
trivial, and returns the torch module in eval mode.
"""

import contextlib
import io
import logging

import torch
import torch.nn as nn
from brevitas.nn import QuantConv2d, QuantIdentity, QuantLinear
from brevitas.quant.binary import SignedBinaryActPerTensorConst, SignedBinaryWeightPerTensorConst

__all__ = ["FOREIGN", "IN_SHAPES", "make", "export", "randomize_bn"]


class TensorNorm(nn.Module):
    """BNN-PYNQ's scalar output norm: ``x * weight + bias`` with scalar parameters."""

    def __init__(self, weight=0.05, bias=0.3):
        super().__init__()
        self.weight = nn.Parameter(torch.tensor(weight))
        self.bias = nn.Parameter(torch.tensor(bias))

    def forward(self, x):
        return x * self.weight + self.bias


class PynqFC(nn.Module):
    """BNN-PYNQ style FC: 2x-1 input mapping, binary input quant, dropout, default 0.1 weight scale,
    BatchNorm1d, TensorNorm at the end."""

    def __init__(self, in_features=64, hidden=(32, 24), classes=10, norm_weight=0.05):
        super().__init__()
        self.inp = QuantIdentity(act_quant=SignedBinaryActPerTensorConst)
        layers, width = [nn.Dropout(0.2)], in_features
        for h in hidden:
            layers += [QuantLinear(width, h, bias=False, weight_quant=SignedBinaryWeightPerTensorConst),
                       nn.BatchNorm1d(h), QuantIdentity(act_quant=SignedBinaryActPerTensorConst), nn.Dropout(0.2)]
            width = h
        layers += [QuantLinear(width, classes, bias=False, weight_quant=SignedBinaryWeightPerTensorConst),
                   TensorNorm(norm_weight)]
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        x = 2.0 * x - 1.0
        x = self.inp(x.view(x.shape[0], -1))
        return self.layers(x)


class SmallCNV(nn.Module):
    """A CNV-like net: 8-bit input quant with a learned-style float scale, convs without padding,
    MaxPool after the sign, view() flatten, a linear layer with bias, a negative scalar at the end."""

    def __init__(self, in_ch=1, classes=10, side=8):
        super().__init__()
        self.inp = QuantIdentity(bit_width=8, return_quant_tensor=False)
        self.c1 = QuantConv2d(in_ch, 6, 3, bias=False, weight_quant=SignedBinaryWeightPerTensorConst)
        self.b1 = nn.BatchNorm2d(6)
        self.a1 = QuantIdentity(act_quant=SignedBinaryActPerTensorConst)
        self.c2 = QuantConv2d(6, 8, 3, bias=False, weight_quant=SignedBinaryWeightPerTensorConst)
        self.b2 = nn.BatchNorm2d(8)
        self.a2 = QuantIdentity(act_quant=SignedBinaryActPerTensorConst)
        self.pool = nn.MaxPool2d(2)
        flat = 8 * ((side - 4) // 2) ** 2
        self.fc = QuantLinear(flat, 16, bias=True, weight_quant=SignedBinaryWeightPerTensorConst)
        self.b3 = nn.BatchNorm1d(16)
        self.a3 = QuantIdentity(act_quant=SignedBinaryActPerTensorConst)
        self.out = QuantLinear(16, classes, bias=False, weight_quant=SignedBinaryWeightPerTensorConst)

    def forward(self, x):
        x = self.inp(x)
        x = self.a1(self.b1(self.c1(x)))
        x = self.pool(self.a2(self.b2(self.c2(x))))
        x = x.view(x.size(0), -1)
        x = self.a3(self.b3(self.fc(x)))
        return -0.5 * self.out(x)


class FlatFC(nn.Module):
    """An MLP on vectors as many write it for MNIST: the input is already 784 numbers (the caller
    flattens), an 8-bit input quantizer, BatchNorm1d and sign activations. (A float bias on the last
    layer is refused by import: the argmax would depend on float rounding.)"""

    def __init__(self, in_features=784, hidden=(48, 32), classes=10):
        super().__init__()
        self.inp = QuantIdentity(bit_width=8, return_quant_tensor=False)
        layers, width = [], in_features
        for h in hidden:
            layers += [QuantLinear(width, h, bias=False, weight_quant=SignedBinaryWeightPerTensorConst),
                       nn.BatchNorm1d(h), QuantIdentity(act_quant=SignedBinaryActPerTensorConst)]
            width = h
        layers.append(QuantLinear(width, classes, bias=False, weight_quant=SignedBinaryWeightPerTensorConst))
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        return self.layers(self.inp(x))


class CifarCNV(nn.Module):
    """A CIFAR-size net (3x32x32 input) with small channel counts, after BNN-PYNQ's CNV: 8-bit input
    quantizer after 2x - 1, two conv + BatchNorm + sign + MaxPool stages (zero padding 1 on the
    first, whose input is integer codes), torch.flatten, a linear layer."""

    def __init__(self, channels=(8, 8), classes=10):
        super().__init__()
        c1, c2 = channels
        self.inp = QuantIdentity(bit_width=8, return_quant_tensor=False)
        self.features = nn.Sequential(
            QuantConv2d(3, c1, 3, padding=1, bias=False, weight_quant=SignedBinaryWeightPerTensorConst),
            nn.BatchNorm2d(c1), QuantIdentity(act_quant=SignedBinaryActPerTensorConst), nn.MaxPool2d(2),
            QuantConv2d(c1, c2, 3, bias=False, weight_quant=SignedBinaryWeightPerTensorConst),
            nn.BatchNorm2d(c2), QuantIdentity(act_quant=SignedBinaryActPerTensorConst), nn.MaxPool2d(2),
        )
        self.fc = QuantLinear(c2 * 7 * 7, classes, bias=False, weight_quant=SignedBinaryWeightPerTensorConst)

    def forward(self, x):
        x = self.features(self.inp(2.0 * x - 1.0))
        return self.fc(torch.flatten(x, 1))


class ReluNet(nn.Module):
    """Uses a ReLU between layers: not a binarized net; import must refuse it by name."""

    def __init__(self):
        super().__init__()
        self.inp = QuantIdentity(act_quant=SignedBinaryActPerTensorConst)
        self.fc = QuantLinear(64, 10, bias=False, weight_quant=SignedBinaryWeightPerTensorConst)

    def forward(self, x):
        return self.fc(torch.relu(self.inp(x.flatten(1))))


def randomize_bn(model, seed=0):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d):
                n = m.num_features
                m.weight.copy_(torch.randn(n, generator=g))  # about half negative
                m.bias.copy_(torch.randn(n, generator=g))
                m.running_mean.copy_(torch.randn(n, generator=g) * 3)
                m.running_var.copy_(torch.rand(n, generator=g) * 4 + 0.5)
    return model


FOREIGN = {
    "pynq-fc": lambda: PynqFC(),
    "pynq-fc-negnorm": lambda: PynqFC(norm_weight=-0.05),
    "small-cnv": lambda: SmallCNV(),
    # the shapes people write for MNIST and CIFAR (export with the in_shape beside each)
    "mnist-fc-flatten-inside": lambda: PynqFC(in_features=784, hidden=(64, 32)),  # takes 1x28x28
    "mnist-fc-784": lambda: FlatFC(),  # takes 784
    "cifar-cnv": lambda: CifarCNV(),  # takes 3x32x32
}
IN_SHAPES = {"mnist-fc-flatten-inside": (1, 28, 28), "mnist-fc-784": (784,), "cifar-cnv": (3, 32, 32)}


def make(name, seed=0):
    """Build ``FOREIGN[name]`` deterministically, BatchNorm statistics randomized, in eval mode."""
    torch.manual_seed(seed)
    return randomize_bn(FOREIGN[name](), seed).eval()


def export(model, path, in_shape=(1, 8, 8)):
    """Export with Brevitas ``export_qonnx`` (no cleanup: import does it)."""
    from brevitas.export import export_qonnx

    model = model.eval()
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    with contextlib.redirect_stdout(io.StringIO()):
        export_qonnx(model, input_t=torch.rand(1, *in_shape), export_path=str(path))
    return model
