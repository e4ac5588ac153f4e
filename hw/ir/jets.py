"""Jet features: the nine 3x3 kernels {S, D, L} x {S, D, L} and how a kernel decomposes into them.

S = [1, 2, 1] (binomial smoothing), D = [-1, 0, 1] (first derivative), L = [1, -2, 1] (second
derivative). Jet ``3*a + b`` is the outer product ``V_a (rows) x H_b (columns)``: jet 0 (SS) is the
Gaussian-like blur, 1 (SD) and 3 (DS) the Sobel pair, 4 (DD) the mixed second derivative, 2 (SL)
and 6 (LS) the second derivatives along x and y, and so on (Simons & Lee, Electronics 2019 and
2021). They are computed as a group: three 1-D filters along each row shared by all nine, then
three along the columns; every step is a handful of integer additions.

Since S, D and L span R^3, the nine jets are a basis of all 3x3 kernels: any integer kernel has
one set of jet coefficients (:func:`decompose`); a jet layer is one whose coefficients are all -1,
0 or +1 (the constrained form: exactly one nonzero per output and input channel).
"""

import numpy as np

__all__ = ["S", "D", "L", "BASIS", "NAMES", "jet_kernels", "decompose", "jets"]

S = np.array([1, 2, 1])
D = np.array([-1, 0, 1])
L = np.array([1, -2, 1])
BASIS = (S, D, L)
NAMES = tuple(a + b for a in "SDL" for b in "SDL")


def jet_kernels() -> np.ndarray:
    """The nine kernels, int64 ``(9, 3, 3)``: ``k[3a + b] = outer(BASIS[a], BASIS[b])``."""
    return np.array([np.outer(a, b) for a in BASIS for b in BASIS], dtype=np.int64)


_K = jet_kernels().reshape(9, 9).T.astype(np.float64)  # columns: flattened jets
_K_INV = np.linalg.inv(_K)


def decompose(kernels: np.ndarray):
    """Jet coefficients of integer 3x3 kernels ``(..., 3, 3)`` -> ``(..., 9)``, or None when some
    kernel is not an integer combination of the jets (reconstruction checked exactly)."""
    k = np.asarray(kernels, dtype=np.float64)
    flat = k.reshape(-1, 9)
    coef = np.rint(flat @ _K_INV.T)
    back = coef @ _K.T
    if not np.array_equal(back, flat):
        return None
    return coef.astype(np.int64).reshape(k.shape[:-2] + (9,))


def compose(coeffs: np.ndarray) -> np.ndarray:
    """Kernels ``(..., 3, 3)`` from jet coefficients ``(..., 9)``."""
    c = np.asarray(coeffs, dtype=np.int64)
    return np.tensordot(c, jet_kernels(), axes=([-1], [0]))


def jets(windows: np.ndarray) -> np.ndarray:
    """The nine jets of 3x3 windows ``(..., 3, 3)`` -> ``(..., 9)``, the separable way the hardware
    computes them: three filters along each row, then three along the columns."""
    w = np.asarray(windows, dtype=np.int64)
    rows = np.stack([w @ b for b in BASIS], axis=-1)  # (..., 3 rows, 3 horizontal filters)
    cols = np.stack([np.einsum("...rh,r->...h", rows, a) for a in BASIS], axis=-2)  # (..., 3 vert, 3 horiz)
    return cols.reshape(w.shape[:-2] + (9,))
