import numpy as np
import torch.nn.functional as F
from brevitas.nn import QuantConv2d

from hw.errors import BitfoldError

from ..quant import BinaryWeightQuant

__all__ = ["BinaryConv2d"]


class BinaryConv2d(QuantConv2d):
    """2-D convolution with binary weights ±1 and no bias.

    Parameters
    ----------
    padding : int
        Border added on every side before the convolution (0: valid convolution).
    pad_value : float
        The value of the border: -1 (default) or +1 on a binary input, so no zero ever enters a
        binary datapath; 0 is allowed only on a k-bit (first-layer) input, where it adds nothing.
        Exports as ONNX ``Pad`` (constant) before a ``Conv`` without padding.
    """

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, pad_value=-1.0):
        if pad_value not in (-1.0, 0.0, 1.0):
            raise BitfoldError(f"BinaryConv2d pad_value must be -1, 0 or +1, not {pad_value!r}")
        super().__init__(
            in_channels, out_channels, kernel_size, stride=stride, padding=0, bias=False,
            weight_quant=BinaryWeightQuant,
        )
        self.pad = int(padding)
        self.pad_value = float(pad_value)

    def forward(self, x):
        if self.pad:
            x = F.pad(x, (self.pad,) * 4, value=self.pad_value)
        return super().forward(x)

    def weight_bits(self) -> np.ndarray:
        """Weight bits (1 means +1), shape ``(out, in, kh, kw)``, uint8."""
        return (self.weight.detach().cpu().numpy() >= 0).astype(np.uint8)
