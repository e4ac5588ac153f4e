"""The fully connected topology of the FINN / BNN-PYNQ ``*fc`` family, parameterized by width."""

import math

import torch.nn as nn

from ..layers import BinaryAct, BinaryLinear, InputQuant, ScoreLinear
from .base import ZooModel

__all__ = ["FC"]


class FC(ZooModel):
    """``InputQuant -> [BinaryLinear -> BatchNorm1d -> BinaryAct -> Dropout] x n -> ScoreLinear``.

    Parameters
    ----------
    name : str
        Zoo name, recorded in the config.
    in_shape : tuple
        ``(C, H, W)`` of one image; flattened in C, H, W order.
    hidden : tuple of int
        Width of each hidden layer.
    classes : int
    input_bits, input_signed :
        See :class:`~bnn.layers.InputQuant`.
    dropout : float
        Dropout after each binary activation while training (BNN-PYNQ uses 0.2).
    """

    def __init__(self, name, in_shape, hidden, classes=10, input_bits=8, input_signed=False, dropout=0.2):
        super().__init__()
        self.config = dict(
            model=name, in_shape=list(in_shape), hidden=list(hidden), classes=classes,
            input_bits=input_bits, input_signed=input_signed, dropout=dropout,
        )
        self.input = InputQuant(input_bits, input_signed)
        layers = []
        width = math.prod(in_shape)
        for h in hidden:
            layers += [BinaryLinear(width, h), nn.BatchNorm1d(h), BinaryAct(), nn.Dropout(dropout)]
            width = h
        self.features = nn.Sequential(*layers)
        self.classifier = ScoreLinear(width, classes)

    def forward(self, x):
        x = self.input(x).flatten(1)
        return self.classifier(self.features(x))
