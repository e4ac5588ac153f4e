"""``tfc``: 784-64-64-64-10, the BNN-PYNQ TFC topology, for 28 x 28 MNIST, with
binarized input pixels (>= 0.5) by default, as BNN-PYNQ's 1-bit-weight 1-bit-activation version."""

from .fc import FC

__all__ = ["tfc"]

DEFAULTS = dict(dataset="mnist", epochs=10, input_bits=1)


def tfc(in_shape=(1, 28, 28), classes=10, input_bits=1, input_signed=False):
    return FC("tfc", in_shape, (64, 64, 64), classes, input_bits, input_signed)
