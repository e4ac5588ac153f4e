"""``jet-mnist``: the ``cnv-mnist`` topology with a neural jet feature first layer
(:class:`~bnn.layers.JetConv2d`, constrained: one jet and a sign per output channel), and
``jet-full-mnist``, the less constrained variant (a ±1 coefficient for every jet), for comparison."""

from ..layers import JetConv2d
from .cnv_mnist import CNV, STAGES

__all__ = ["jet_mnist", "jet_full_mnist"]

DEFAULTS = dict(dataset="mnist", epochs=10)


def jet_mnist(in_shape=(1, 28, 28), classes=10, input_bits=8, input_signed=False, variant="constrained"):
    name = "jet-mnist" if variant == "constrained" else "jet-full-mnist"
    model = CNV(name, in_shape, STAGES, (128,), classes, input_bits, input_signed,
                first_layer=lambda c, n: JetConv2d(c, n, pad_value=0.0 if input_bits > 1 else -1.0, variant=variant))
    return model


def jet_full_mnist(in_shape=(1, 28, 28), classes=10, input_bits=8, input_signed=False):
    return jet_mnist(in_shape, classes, input_bits, input_signed, variant="full")
