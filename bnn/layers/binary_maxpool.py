import torch.nn as nn

__all__ = ["BinaryMaxPool2d"]


class BinaryMaxPool2d(nn.MaxPool2d):
    """Max-pooling placed after a binary activation: the max of ±1 values is the OR of their bits.

    No padding, no dilation; the stride defaults to the kernel size. Exports as ONNX ``MaxPool``.
    """

    def __init__(self, kernel_size: int, stride: int | None = None):
        super().__init__(kernel_size, stride=stride)
