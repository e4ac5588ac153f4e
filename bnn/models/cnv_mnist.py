"""``cnv-mnist``: a small valid-padding binarized CNN with two poolings, for 28 x 28 MNIST.

::

    1x28x28 -> conv3x3 16 -> conv3x3 32 -> pool2 -> conv3x3 32 -> conv3x3 32 -> pool2
            -> fc 128 -> scores 10

Shapes: 26, 24, 12, 10, 8, 4 (flattened 512). The first convolution takes k-bit pixels; every
later layer is XNOR/popcount. Each convolution and the fc layer are followed by BatchNorm + sign.
"""

import math

import torch.nn as nn

from ..layers import BinaryAct, BinaryConv2d, BinaryLinear, BinaryMaxPool2d, InputQuant, ScoreLinear
from .base import ZooModel

__all__ = ["cnv_mnist", "CNV"]

DEFAULTS = dict(dataset="mnist", epochs=10)


class CNV(ZooModel):
    """A conv net described by a list of stages: ``("conv", out_ch)`` or ``("pool", k)``, then dense
    widths. Every convolution is 3 x 3, stride 1, valid padding."""

    def __init__(self, name, in_shape, stages, dense, classes=10, input_bits=8, input_signed=False,
                 first_layer=None):
        super().__init__()
        self.config = dict(
            model=name, in_shape=list(in_shape), stages=[list(s) for s in stages], dense=list(dense),
            classes=classes, input_bits=input_bits, input_signed=input_signed,
        )
        self.input = InputQuant(input_bits, input_signed)
        c, h, w = in_shape
        layers = []
        for i, (kind, n) in enumerate(stages):
            if kind == "conv":
                conv = first_layer(c, n) if (i == 0 and first_layer) else BinaryConv2d(c, n, 3)
                layers += [conv, nn.BatchNorm2d(n), BinaryAct()]
                c, h, w = n, h - 2, w - 2
            elif kind == "pool":
                layers.append(BinaryMaxPool2d(n))
                h, w = h // n, w // n
            else:
                raise ValueError(f"unknown stage {kind!r}")
        self.features = nn.Sequential(*layers)
        fc, width = [], c * h * w
        for d in dense:
            fc += [BinaryLinear(width, d), nn.BatchNorm1d(d), BinaryAct()]
            width = d
        self.fc = nn.Sequential(*fc)
        self.classifier = ScoreLinear(width, classes)
        assert width == (dense[-1] if dense else math.prod((c, h, w)))

    def forward(self, x):
        x = self.features(self.input(x)).flatten(1)
        return self.classifier(self.fc(x))

    def on_epoch(self, epoch, epochs):
        """Training schedule hooks of layers that have one (the jet layer's temperature)."""
        for m in self.modules():
            if m is not self and hasattr(m, "on_epoch"):
                m.on_epoch(epoch, epochs)

    def finalize(self):
        """Freeze trained choices (jet layers) into their exported form."""
        for m in self.modules():
            if m is not self and hasattr(m, "finalize"):
                m.finalize()


STAGES = (("conv", 16), ("conv", 32), ("pool", 2), ("conv", 32), ("conv", 32), ("pool", 2))


def cnv_mnist(in_shape=(1, 28, 28), classes=10, input_bits=8, input_signed=False):
    return CNV("cnv-mnist", in_shape, STAGES, (128,), classes, input_bits, input_signed)
