"""Training toward short spanning trees (MST-compression, Vo et al., ICCV 2023; see :mod:`hw.mst`).

The tree's total Hamming distance is not differentiable; its surrogate is, for every child ``c``
of parent ``p`` in the current tree, ``sum_k relu(-w_c,k * sign(w_p,k))``: zero where the child's
latent weight already has the parent's sign, and pulling it across zero where it differs, so the
two channels come to differ in fewer positions. The trees come from :func:`hw.mst.mst_schedule`
(the same code the hardware uses) on the current binary weights, recomputed every ``every``
steps. The penalty is averaged over the regularized weights and scaled by ``lam``.
"""


import torch

from hw.mst import mst_schedule

from .layers import BinaryConv2d, BinaryLinear, InputQuant, ScoreLinear

__all__ = ["MSTRegularizer", "mst_layers", "schedules"]


def mst_layers(model):
    """The binary layers whose input is binary (an MST schedule applies to them), in forward order.
    A first layer reading k-bit pixels and the score layer are left out."""
    layers, binary_input = [], True
    for m in model.modules():
        if isinstance(m, InputQuant):
            binary_input = m.bits == 1
        elif isinstance(m, BinaryLinear | BinaryConv2d):
            if binary_input and not isinstance(m, ScoreLinear):
                layers.append(m)
            binary_input = True
    return layers


def schedules(model, depth_bound=None):
    """``[(layer, Schedule)]`` of the current binary weights."""
    out = []
    for layer in mst_layers(model):
        bits = layer.weight_bits().reshape(layer.weight.shape[0], -1)
        out.append((layer, mst_schedule(bits, depth_bound)))
    return out


class MSTRegularizer:
    def __init__(self, model, lam: float, every: int = 50, depth_bound: int | None = None):
        self.model, self.lam, self.every, self.depth_bound = model, float(lam), int(every), depth_bound
        self.layers = mst_layers(model)
        self.trees = None
        self.count = sum(layer.weight.numel() for layer in self.layers)

    def penalty(self, step: int) -> torch.Tensor:
        if self.lam == 0 or not self.layers:
            return torch.zeros(())
        if self.trees is None or step % self.every == 0:
            self.trees = [(layer, torch.tensor([p for p in s.parents]))
                          for layer, s in schedules(self.model, self.depth_bound)]
        total = torch.zeros(())
        for layer, parents in self.trees:
            w = layer.weight.reshape(layer.weight.shape[0], -1)
            child = torch.nonzero(parents >= 0).flatten()
            if child.numel() == 0:
                continue
            target = torch.sign(w[parents[child]]).detach()
            total = total + torch.relu(-w[child] * target).sum()
        return self.lam * total / self.count

    def compression(self) -> float:
        """XNOR compression of the current binary weights over the regularized layers."""
        cost, plain = 0, 0
        for layer, s in schedules(self.model, self.depth_bound):
            bits = layer.weight_bits().reshape(layer.weight.shape[0], -1)
            cost += s.cost(bits)
            plain += bits.size
        return float(plain / max(1, cost))


