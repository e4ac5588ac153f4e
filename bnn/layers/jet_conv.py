"""Neural jet feature layer (Simons & Lee, "Jet Features", Electronics 2019, 8(5):588; "Efficient
Binarized Convolutional Layers for Visual Inspection Applications on Resource-Limited FPGAs and
ASICs", Electronics 2021, 10(13):1511).

Instead of learning 3x3 kernels, every (output, input) channel pair chooses one of the nine jets
{S, D, L} x {S, D, L} (S = [1, 2, 1], D = [-1, 0, 1], L = [1, -2, 1]; see :mod:`hw.ir.jets`) and a
sign: ``out_o = sum_c s(o, c) J_{j(o, c)}(x_c)``. The choice is trained through a relaxation that
ends hard: a softmax over the nine with a temperature annealed from ``tau_start`` to ``tau_end``,
then, for the last epochs, a straight-through hard choice (forward one-hot, gradient of the
softmax); the sign is a binary straight-through estimate. The ``full`` variant learns a binary
coefficient for every jet instead (``sum_j b(o, c, j) J_j``, b = ±1).

Where this may differ from the papers (their full texts were not available to us): the papers'
jets are derivatives of a Gaussian at a chosen scale; ours are the integer 3x3 binomial family,
one scale; we train the choice with the relaxation above and export only the hard choice.

Export: after :meth:`finalize`, the layer is an ordinary Brevitas ``QuantConv2d`` whose weights
are the chosen kernels as integers (a 6-bit signed ``Quant`` of scale 1 in QONNX, standard ops).
``hw.ir.from_qonnx`` recognizes a 3x3 integer kernel that is a -1/0/+1 combination of the jets and
imports it as a ``JetConv`` node.
"""



import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from brevitas.core.scaling import ScalingImplType
from brevitas.nn import QuantConv2d
from brevitas.quant.scaled_int import Int8WeightPerTensorFloat

from hw.errors import BitfoldError
from hw.ir.jets import jet_kernels

__all__ = ["JetConv2d", "JetWeightQuant"]


class JetWeightQuant(Int8WeightPerTensorFloat):
    """Integer kernel weights, scale exactly 1: 6 bits signed (narrow), |w| <= 16 for any jet
    combination with -1/0/+1 coefficients (the centre tap of the ``full`` variant's extreme)."""

    bit_width = 6
    scaling_impl_type = ScalingImplType.CONST
    scaling_const = 31.0
    scaling_init = 31.0


def _sign_ste(x):
    hard = torch.where(x >= 0, torch.ones_like(x), -torch.ones_like(x))
    return hard + (x.clamp(-1, 1) - x.clamp(-1, 1).detach())


class JetConv2d(nn.Module):
    """3x3 jet feature convolution, stride and -1 (binary) or 0 (k-bit) padding as
    :class:`~bnn.layers.BinaryConv2d`.

    Parameters
    ----------
    variant : str
        ``"constrained"``: one jet and a sign per (output, input) pair; ``"full"``: a ±1 coefficient
        for every jet.
    tau_start, tau_end, hard_epochs :
        Temperature schedule of the constrained choice (see :meth:`on_epoch`).
    """

    def __init__(self, in_channels, out_channels, stride=1, padding=0, pad_value=-1.0, variant="constrained",
                 tau_start=1.0, tau_end=0.05, hard_epochs=2):
        super().__init__()
        if variant not in ("constrained", "full"):
            raise BitfoldError(f"JetConv2d variant must be 'constrained' or 'full', not {variant!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.stride, self.pad, self.pad_value, self.variant = stride, int(padding), float(pad_value), variant
        self.tau_start, self.tau_end, self.hard_epochs = tau_start, tau_end, hard_epochs
        self.register_buffer("jets", torch.tensor(jet_kernels(), dtype=torch.float32))
        # each jet scaled to unit L2 norm for training, so no jet wins by its size alone
        self.register_buffer("norms", self.jets.flatten(1).norm(dim=1))
        if variant == "constrained":
            self.logits = nn.Parameter(torch.randn(out_channels, in_channels, 9) * 0.5)
            self.sign = nn.Parameter(torch.randn(out_channels, in_channels) * 0.1)
        else:
            self.coef = nn.Parameter(torch.randn(out_channels, in_channels, 9) * 0.1)
        self.tau = tau_start
        self.hard = False
        # the exported form: an integer-kernel convolution
        self.conv = QuantConv2d(in_channels, out_channels, 3, stride=stride, padding=0, bias=False,
                                weight_quant=JetWeightQuant)
        # finalized: a buffer (saved with the state dict) mirrored by a plain bool, because the
        # exporter traces forward() and cannot branch on a tensor's value
        self.register_buffer("final", torch.zeros((), dtype=torch.uint8))
        self._final = False

    @property
    def finalized(self) -> bool:
        return self._final

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        self._final = bool(self.final.item())

    def on_epoch(self, epoch: int, epochs: int):
        """Anneal the temperature geometrically; switch to a hard choice for the last epochs."""
        soft = max(1, epochs - self.hard_epochs)
        frac = min(1.0, epoch / max(1, soft - 1))
        self.tau = self.tau_start * (self.tau_end / self.tau_start) ** frac
        self.hard = epoch >= soft

    def coefficients(self, hard=None) -> torch.Tensor:
        """Jet coefficients ``(O, C, 9)``: soft while training, -1/0/+1 once hard."""
        hard = self.hard if hard is None else hard
        if self.variant == "full":
            return _sign_ste(self.coef)
        soft = torch.softmax(self.logits / self.tau, dim=-1)
        if hard:
            one_hot = F.one_hot(self.logits.argmax(-1), 9).to(soft.dtype)
            choice = one_hot + soft - soft.detach()  # straight through: forward hard
        else:
            choice = soft
        return _sign_ste(self.sign)[..., None] * choice

    def kernel(self, hard=None) -> torch.Tensor:
        c = self.coefficients(hard)
        if hard is None and not self.hard and self.variant == "constrained":
            c = c / self.norms  # soft training: unit-norm jets
        return torch.einsum("ocj,jhw->ochw", c, self.jets)

    @torch.no_grad()
    def finalize(self):
        """Freeze the hard choice into the integer-kernel convolution used for inference and export."""
        k = torch.einsum("ocj,jhw->ochw", self.coefficients(hard=True).detach(), self.jets)
        self.conv.weight.copy_(k)
        self.final.fill_(1)
        self._final = True

    def integer_kernels(self) -> np.ndarray:
        return self.conv.weight.detach().cpu().numpy().round().astype(np.int64)

    def forward(self, x):
        if self.pad:
            x = F.pad(x, (self.pad,) * 4, value=self.pad_value)
        if self.finalized and not self.training:
            return self.conv(x)
        k = self.kernel()
        return F.conv2d(x, k, stride=self.stride)

    def extra_repr(self):
        return f"{self.in_channels}, {self.out_channels}, variant={self.variant}, tau={self.tau:.3g}"



