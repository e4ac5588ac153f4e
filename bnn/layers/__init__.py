"""Binarized layers, one per file. Each exports to standard QONNX through Brevitas."""

from .binary_act import BinaryAct
from .binary_conv2d import BinaryConv2d
from .binary_linear import BinaryLinear
from .binary_maxpool import BinaryMaxPool2d
from .input_quant import InputQuant
from .jet_conv import JetConv2d
from .score_linear import ScoreLinear

__all__ = ["BinaryAct", "BinaryConv2d", "BinaryLinear", "BinaryMaxPool2d", "InputQuant", "JetConv2d", "ScoreLinear"]
