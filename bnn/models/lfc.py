"""``lfc``: 784-1024-1024-1024-10, the BNN-PYNQ LFC topology, for 28 x 28 MNIST, with
binarized input pixels (>= 0.5) by default, as BNN-PYNQ's 1-bit-weight 1-bit-activation version."""

from .fc import FC

__all__ = ["lfc"]

DEFAULTS = dict(dataset="mnist", epochs=10, input_bits=1)


def lfc(in_shape=(1, 28, 28), classes=10, input_bits=1, input_signed=False):
    return FC("lfc", in_shape, (1024, 1024, 1024), classes, input_bits, input_signed)
