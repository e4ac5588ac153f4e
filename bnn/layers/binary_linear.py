import numpy as np
from brevitas.nn import QuantLinear

from ..quant import BinaryWeightQuant

__all__ = ["BinaryLinear"]


class BinaryLinear(QuantLinear):
    """Fully connected layer with binary weights ±1 and no bias.

    On ±1 inputs it computes ``dot = 2 * popcount(XNOR(x, w)) - K``; on k-bit inputs
    ``sum_{w=+1} x - sum_{w=-1} x``. Exports as ``BipolarQuant`` (the weights) + ``MatMul``.
    """

    def __init__(self, in_features: int, out_features: int):
        super().__init__(in_features, out_features, bias=False, weight_quant=BinaryWeightQuant)

    def weight_bits(self) -> np.ndarray:
        """Weight bits (1 means +1), shape ``(out, in)``, uint8."""
        return (self.weight.detach().cpu().numpy() >= 0).astype(np.uint8)
