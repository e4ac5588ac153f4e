import torch.nn as nn
from brevitas.nn import QuantIdentity

from hw.errors import BitfoldError

from ..quant import int_input_quant
from .binary_act import BinaryAct

__all__ = ["InputQuant"]


class InputQuant(nn.Module):
    """First-layer input quantizer for pixels ``x = u8 / 256`` in [0, 1).

    Parameters
    ----------
    bits : int
        1: binarized, ``x >= 0.5`` (pixel >= 128) gives +1, else -1; computed as ``sign(2x - 1)``
        and exported as ``Mul``/``Sub`` + ``BipolarQuant``.
        k > 1: k-bit integer codes, exported as ``Quant`` with scale 2^-k (unsigned) or 2^-(k-1)
        (signed, applied to ``2x - 1``). The default, 8 bits unsigned, gives the pixel byte itself.
    signed : bool
        Only for k > 1: map to ``2x - 1`` first and quantize signed.
    """

    def __init__(self, bits: int = 8, signed: bool = False):
        super().__init__()
        if not isinstance(bits, int) or bits < 1:
            raise BitfoldError(f"input bits must be a positive integer, not {bits!r}")
        self.bits, self.signed = bits, bool(signed)
        if bits == 1:
            if signed:
                raise BitfoldError("a binarized input (bits=1) is always bipolar; drop signed=True")
            self.quant = BinaryAct()
        else:
            self.quant = QuantIdentity(act_quant=int_input_quant(bits, signed), return_quant_tensor=False)

    @property
    def bipolar_input(self) -> bool:
        return self.bits == 1 or self.signed

    def forward(self, x):
        if self.bipolar_input:
            x = 2.0 * x - 1.0
        return self.quant(x)

    def extra_repr(self):
        return f"bits={self.bits}, signed={self.signed}"
