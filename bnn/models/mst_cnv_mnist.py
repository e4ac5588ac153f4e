"""``mst-cnv-mnist``: the ``cnv-mnist`` topology trained with the MST regularizer (bnn/mst.py) on
its binary layers, so channels come to share weights and each can be computed from a parent
(hw/mst.py); the schedules (depth bound 4) are saved with the model."""

from .cnv_mnist import CNV, STAGES

__all__ = ["mst_cnv_mnist"]

DEFAULTS = dict(dataset="mnist", epochs=10, mst=dict(lam=0.5, every=50, depth=4))


def mst_cnv_mnist(in_shape=(1, 28, 28), classes=10, input_bits=8, input_signed=False):
    return CNV("mst-cnv-mnist", in_shape, STAGES, (128,), classes, input_bits, input_signed)
