import torch
from brevitas.nn import QuantIdentity

from ..quant import BinaryActQuant

__all__ = ["BinaryAct"]


class BinaryAct(QuantIdentity):
    """Binary activation: ``+1 if x >= 0 else -1`` (so sign(0) = +1), straight-through gradient
    inside [-1, 1]. Exports as QONNX ``BipolarQuant`` (scale 1)."""

    def __init__(self):
        super().__init__(act_quant=BinaryActQuant, return_quant_tensor=False)

    @staticmethod
    def bits(y: torch.Tensor) -> torch.Tensor:
        """The bits b of a ±1 output (b = 1 means +1), as uint8."""
        return (y > 0).to(torch.uint8)
