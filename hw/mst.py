"""MST schedules of binary layers (Vo, Tran, Bae, Kim, Hong, "MST-compression: Compressing and
Accelerating Binary Neural Networks with Minimum Spanning Tree", ICCV 2023, arXiv 2308.13735).

An output channel ``c`` of a binary layer can be computed from another channel ``p``'s popcount
plus XNORs over only the positions ``Δ`` where their weights differ:

    popcount_c = popcount_p + 2 * popcount(XNOR(x_Δ, W_c,Δ)) - |Δ|

exactly (on the other positions both channels' XNORs agree). The graph over channels, plus a
virtual root whose edge to every channel costs K (computing it from scratch), weighted by Hamming
distance, has a minimum spanning tree whose total weight is the XNORs per output position of the
cheapest such schedule. A depth bound caps the chain of dependent additions (the pipeline depth).

This module is numpy only: the training side (:mod:`bnn.mst`) uses the same trees.
Where ours may differ from the paper (its full text was not available to us): a channel whose
weights are far from all others is computed from scratch (the virtual root) rather than from a
complemented neighbour; the depth-bounded tree comes from the greedy heuristic below.
"""

import numpy as np

from .errors import BitfoldError
from .ir.schedule import Schedule

__all__ = ["hamming", "mst_schedule", "brute_force_cost"]


def hamming(weights: np.ndarray) -> np.ndarray:
    """Pairwise Hamming distances of the rows of bit matrix ``weights (O, K)``, int64 ``(O, O)``."""
    w = np.asarray(weights, dtype=np.int64).reshape(len(weights), -1)
    ones = w @ w.T
    n1 = w.sum(axis=1)
    return n1[:, None] + n1[None, :] - 2 * ones


def mst_schedule(weights: np.ndarray, depth_bound: int | None = None) -> Schedule:
    """A minimum spanning tree over the channels plus the virtual root (Prim's algorithm).

    Without a bound the tree is minimum. With ``depth_bound`` D the same greedy growth only
    attaches a channel to a tree node of depth below D (depth 0: computed from scratch), so the
    tree never exceeds D; its cost is at least the unbounded minimum (the bench and tests measure
    how far, and against brute force on small layers).
    """
    w = np.asarray(weights).reshape(len(weights), -1)
    o, k = w.shape
    if depth_bound is not None and depth_bound < 0:
        raise BitfoldError(f"MST depth bound must be at least 0, not {depth_bound}")
    dist = hamming(w)
    in_tree = np.zeros(o, dtype=bool)
    depth = np.full(o, -1)
    best = np.full(o, k, dtype=np.int64)  # cheapest known edge into each channel (root: K)
    via = np.full(o, -1)
    parents = [-1] * o
    for _ in range(o):
        cand = np.where(in_tree, np.iinfo(np.int64).max, best)
        c = int(np.argmin(cand))  # ties: lowest channel, root edges win (<=)
        in_tree[c] = True
        parents[c] = int(via[c])
        depth[c] = 0 if via[c] < 0 else depth[via[c]] + 1
        if depth_bound is not None and depth[c] >= depth_bound:
            continue  # c may not be a parent
        better = (~in_tree) & (dist[c] < best)
        best[better] = dist[c][better]
        via[better] = c
    if depth_bound is not None:
        parents = _improve(parents, dist, k, depth_bound)
    return Schedule(tuple(parents), depth_bound)


def _improve(parents, dist, k, bound):
    """Local search for the depth-bounded tree: move a channel (with its subtree) under another
    parent while that lowers the cost and keeps every depth within the bound."""
    o = len(parents)
    parents = list(parents)

    def edge(c, p):
        return k if p < 0 else int(dist[c, p])

    changed = True
    while changed:
        changed = False
        sched = Schedule(tuple(parents))
        depths = sched.depths
        children = [[] for _ in range(o)]
        for c, p in enumerate(parents):
            if p >= 0:
                children[p].append(c)
        for c in range(o):
            sub, stack = set(), [c]
            while stack:
                n = stack.pop()
                sub.add(n)
                stack.extend(children[n])
            height = max(depths[n] for n in sub) - depths[c]  # levels below c
            best_p, best_cost = parents[c], edge(c, parents[c])
            for q in range(-1, o):
                if q in sub:
                    continue
                d = 0 if q < 0 else depths[q] + 1
                if d + height > bound:
                    continue
                if edge(c, q) < best_cost:
                    best_p, best_cost = q, edge(c, q)
            if best_p != parents[c]:
                parents[c] = best_p
                changed = True
                break
    return parents


def brute_force_cost(weights: np.ndarray, depth_bound: int | None = None) -> int:
    """The minimum schedule cost by enumerating every parent assignment (tiny layers only)."""
    import itertools

    w = np.asarray(weights).reshape(len(weights), -1)
    o = len(w)
    if o > 6:
        raise BitfoldError("brute force is for at most 6 channels")
    best = None
    for parents in itertools.product(range(-1, o), repeat=o):
        if any(p == c for c, p in enumerate(parents)):
            continue
        try:
            s = Schedule(parents, depth_bound)
        except BitfoldError:
            continue
        cost = s.cost(w)
        best = cost if best is None else min(best, cost)
    return best
