"""What every zoo model shares: its config, and the trace of its observable activations."""

import torch
import torch.nn as nn

from ..layers import BinaryAct, BinaryMaxPool2d, InputQuant, ScoreLinear

__all__ = ["ZooModel", "OBSERVED"]

# Module types whose outputs are observable activations: the input codes, every binary activation,
# every pooled activation and the scores. `bitfold check` compares each of them, in forward order,
# with the matching tensor of the QONNX graph and of the integer reference.
OBSERVED = (InputQuant, BinaryAct, BinaryMaxPool2d, ScoreLinear)


class ZooModel(nn.Module):
    """Base of the model zoo: a named, rebuildable network that returns integer class scores.

    Subclasses set ``self.config`` (everything :func:`bnn.models.build` needs to rebuild the model)
    and define ``forward`` from the layers in :mod:`bnn.layers`; the last layer is a
    :class:`~bnn.layers.ScoreLinear`.
    """

    config: dict

    @property
    def score_layer(self) -> ScoreLinear:
        layers = [m for m in self.modules() if isinstance(m, ScoreLinear)]
        return layers[-1]

    def logits(self, scores):
        return self.score_layer.logits(scores)

    def observed_modules(self):
        """The modules whose outputs :meth:`trace` returns, in forward order."""
        return [m for m in self.modules() if isinstance(m, OBSERVED) and not _inside_observed(self, m)]

    @torch.no_grad()
    def trace(self, x):
        """Run ``x`` and return ``(scores, [output of each observed module in execution order])``."""
        seen = []
        handles = [m.register_forward_hook(lambda _m, _i, o: seen.append(o)) for m in self.observed_modules()]
        try:
            scores = self(x)
        finally:
            for h in handles:
                h.remove()
        return scores, seen


def _inside_observed(root, module):
    # InputQuant wraps a BinaryAct for binarized inputs: observe the wrapper only.
    for m in root.modules():
        if m is not module and isinstance(m, InputQuant) and any(c is module for c in m.modules()):
            return True
    return False
