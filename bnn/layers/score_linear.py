import math

import torch
import torch.nn as nn

from .binary_linear import BinaryLinear

__all__ = ["ScoreLinear"]


class ScoreLinear(BinaryLinear):
    """Output layer: binary weights, integer class scores ``dot = 2 * popcount - K``.

    The forward pass returns the integer scores themselves (as floats); the class is their argmax,
    lowest index on ties, as :func:`torch.argmax` picks. Training needs a softer logit, so the layer
    carries a learnable positive ``logit_scale`` that only :meth:`logits` applies: it never enters
    the exported graph and cannot change the argmax.
    """

    def __init__(self, in_features: int, classes: int):
        super().__init__(in_features, classes)
        self.log_scale = nn.Parameter(torch.tensor(-0.5 * math.log(in_features)))

    def logits(self, scores: torch.Tensor) -> torch.Tensor:
        return scores * self.log_scale.exp()
