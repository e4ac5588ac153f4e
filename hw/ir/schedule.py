"""MST schedules as IR values: the order in which a binary layer's output channels are computed.

An output channel ``c`` of a binary layer can be computed from another channel ``p``'s popcount
plus XNORs over only the positions ``Δ`` where their weights differ (Vo et al., "MST-compression",
ICCV 2023):

    popcount_c = popcount_p + 2 * popcount(XNOR(x_Δ, W_c,Δ)) - |Δ|

exactly (on the other positions both channels' XNORs agree). A :class:`Schedule` names each
channel's parent; :func:`scheduled_popcounts` is the reference for a scheduled layer (the IR
interpreter uses it, so a scheduled layer is *computed* the scheduled way). How schedules are
found (spanning trees of the weights) is :mod:`hw.mst`.
"""

from dataclasses import dataclass

import numpy as np

from ..errors import BitfoldError

__all__ = ["Schedule", "scheduled_popcounts"]


@dataclass(frozen=True)
class Schedule:
    """A computation order for the channels of a binary layer.

    ``parents[c]`` is the channel ``c`` is computed from, or -1 for a root (computed directly);
    ``depth_bound`` is the bound the schedule was made within (None: unbounded).
    """

    parents: tuple
    depth_bound: int | None = None

    def __post_init__(self):
        object.__setattr__(self, "parents", tuple(int(p) for p in self.parents))
        n = len(self.parents)
        depth = [-1] * n
        for c in range(n):  # resolve depths, rejecting cycles and bad indices
            chain, node = [], c
            while node != -1 and depth[node] < 0:
                if node in chain or not -1 <= self.parents[node] < n:
                    raise BitfoldError(f"MST schedule is not a forest (channel {c} reaches a cycle or a bad parent)")
                chain.append(node)
                node = self.parents[node]
            d = -1 if node == -1 else depth[node]
            for m in reversed(chain):
                d += 1
                depth[m] = d
        object.__setattr__(self, "depths", tuple(depth))
        if self.depth_bound is not None and max(depth, default=0) > self.depth_bound:
            raise BitfoldError(f"MST schedule has depth {max(depth)}, above its bound {self.depth_bound}")

    @property
    def max_depth(self) -> int:
        return max(self.depths, default=0)

    def order(self):
        """Channels by depth (parents before children)."""
        return sorted(range(len(self.parents)), key=lambda c: (self.depths[c], c))

    def deltas(self, weights) -> list:
        """Per channel: the input positions it counts (all for a root, Δ for a child)."""
        w = np.asarray(weights).reshape(len(weights), -1)
        return [np.arange(w.shape[1]) if p < 0 else np.flatnonzero(w[c] != w[p]) for c, p in enumerate(self.parents)]

    def cost(self, weights) -> int:
        """XNORs per output position: K per root, the Hamming distance to the parent per child."""
        return int(sum(len(d) for d in self.deltas(weights)))

    def compression(self, weights) -> float:
        w = np.asarray(weights).reshape(len(weights), -1)
        return float(w.size / max(1, self.cost(w)))

    def to_dict(self):
        return {"parents": list(self.parents), "depth_bound": self.depth_bound}

    @classmethod
    def from_dict(cls, d):
        return cls(tuple(d["parents"]), d.get("depth_bound"))


def scheduled_popcounts(x_bits: np.ndarray, weights: np.ndarray, schedule: Schedule) -> np.ndarray:
    """``popcount(XNOR(x, W_c))`` for every channel computed the scheduled way (roots directly,
    children from their parent plus the XNORs over the differing positions), int64 ``(M, O)``."""
    from .interp import pack_bits, xnor_popcount

    w = np.asarray(weights, dtype=np.uint8).reshape(len(weights), -1)
    x = np.asarray(x_bits, dtype=np.uint8).reshape(len(x_bits), -1)
    o, k = w.shape
    out = np.zeros((len(x), o), dtype=np.int64)
    xp = pack_bits(x)
    for c in schedule.order():
        p = schedule.parents[c]
        if p < 0:
            out[:, c] = xnor_popcount(xp, pack_bits(w[c:c + 1]), k)[:, 0]
            continue
        delta = np.flatnonzero(w[c] != w[p])
        if delta.size == 0:
            out[:, c] = out[:, p]
            continue
        part = xnor_popcount(pack_bits(x[:, delta]), pack_bits(w[c:c + 1, delta]), delta.size)[:, 0]
        out[:, c] = out[:, p] + 2 * part - delta.size
    return out
