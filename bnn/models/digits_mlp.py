"""``digits-mlp``: 64-128-128-10 for scikit-learn's 8 x 8 digits; trains in seconds (the test model)."""

from .fc import FC

__all__ = ["digits_mlp"]

DEFAULTS = dict(dataset="digits", epochs=30)


def digits_mlp(in_shape=(1, 8, 8), classes=10, input_bits=8, input_signed=False):
    return FC("digits-mlp", in_shape, (128, 128), classes, input_bits, input_signed, dropout=0.1)
