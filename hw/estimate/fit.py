"""Fit the estimator's per-feature LUT costs to synthesized designs, and measure how well it does.

Pure functions of unit plans and synthesis results (the synthesis itself is
:mod:`hw.synth.calibrate`).

The fit is a linear program over the *relative* errors (each design's residual divided by its
synthesized LUT count), per family, with non-negative costs: it minimizes the sum of the absolute
relative errors plus ``MAX_WEIGHT`` times the largest one over the scored designs. Least squares
(NNLS, what we fitted first) lets one design carry a large error to shave many small ones; the
target is every design within a band, so the largest error is in the objective. Designs under
100 LUTs are reported but not scored (one LUT is too large a share of them); they enter the sum
with weight ``SMALL_WEIGHT`` and not the maximum.
"""

import time

import numpy as np

from ..families import family
from .components import lut_features, structural

__all__ = ["design_features", "fit", "evaluate", "calibration_doc", "SCORED_MIN_LUT", "OR_PIXELS", "OR_CHANNELS"]

SCORED_MIN_LUT = 100
MAX_WEIGHT = 10.0  # weight of the largest relative error against the sum of all of them
SMALL_WEIGHT = 0.3  # weight of an unscored (under 100 LUTs) design's error in the sum
OR_PIXELS = (2, 3, 4, 5, 6, 8, 9, 12, 16, 25)  # OR widths measured for the OrReduce table
OR_CHANNELS = 32


def design_features(units, family_name, tables=None):
    """``{feature: value}`` summed over a design's unit plans, and its structural counts."""
    fam = family(family_name)
    feats, struct = {}, {"ff": 0.0, "bram": 0, "lutram": 0.0, "srl": 0.0}
    for c in units:
        for f, v in lut_features(c, fam, tables).items():
            feats[f] = feats.get(f, 0.0) + v
        s = structural(c, fam)
        for k in struct:
            struct[k] += s[k]
    return feats, struct


def fit(rows, features_by_name) -> dict:
    """Per-feature LUT costs fitted to ``rows`` (synthesis results: dicts with name, lut) by the
    linear program of the module docstring. Variables: the costs c >= 0, one bound e_i >= 0 per
    design on |a_i . c / y_i - 1|, and t >= every scored e_i; minimize sum(w_i e_i) + MAX_WEIGHT t."""
    from scipy.optimize import linprog

    keys = sorted({k for name in features_by_name for k in features_by_name[name][0]})
    a = np.array([[features_by_name[r["name"]][0].get(k, 0.0) for k in keys] for r in rows])
    y = np.array([max(1.0, r["lut"]) for r in rows], dtype=float)
    rel = a / y[:, None]
    n, m = rel.shape
    scored = y >= SCORED_MIN_LUT
    eye = np.eye(n)
    t_col = np.zeros((n, 1))
    a_ub = np.vstack([
        np.hstack([rel, -eye, t_col]),    #  rel c - e <= 1
        np.hstack([-rel, -eye, t_col]),   # -rel c - e <= -1
        np.hstack([np.zeros((n, m)), eye, -np.ones((n, 1))])[scored],  # e - t <= 0
    ])
    b_ub = np.concatenate([np.ones(n), -np.ones(n), np.zeros(int(scored.sum()))])
    cost = np.concatenate([np.zeros(m), np.where(scored, 1.0, SMALL_WEIGHT), [MAX_WEIGHT]])
    res = linprog(cost, A_ub=a_ub, b_ub=b_ub, bounds=[(0, None)] * (m + n + 1), method="highs")
    if not res.success:
        raise RuntimeError(f"the estimator fit failed: {res.message}")
    return {feat: round(float(c), 5) for feat, c in zip(keys, res.x[:m], strict=True)}


def evaluate(rows, predictions) -> dict:
    """Error statistics of LUT predictions against synthesis (scored designs only), and BRAM."""
    from scipy.stats import spearmanr

    scored = [(r, p) for r, p in zip(rows, predictions, strict=True) if r["lut"] >= SCORED_MIN_LUT]
    err = np.array([100.0 * (p["lut"] - r["lut"]) / r["lut"] for r, p in scored])
    rho = spearmanr([r["lut"] for r, _ in scored], [p["lut"] for _, p in scored]).statistic if len(scored) > 2 else None
    return {
        "designs": len(rows), "scored": len(scored),
        "median_abs_err_pct": round(float(np.median(np.abs(err))), 2) if len(err) else None,
        "max_abs_err_pct": round(float(np.max(np.abs(err))), 2) if len(err) else None,
        "spearman": round(float(rho), 4) if rho is not None else None,
        "bram_exact": round(float(np.mean([r["bram"] == p["bram"]
                                           for r, p in zip(rows, predictions, strict=True)])), 4),
    }


def calibration_doc(rows_by_family, features, version, tables=None) -> dict:
    """Fit every family: the calibration document (``calibration.json``), with the measured ``tables``."""
    families = {}
    for fam, rows in rows_by_family.items():
        feats = {r["name"]: features[fam][r["name"]] for r in rows}
        families[fam] = {"lut": fit(rows, feats), "designs": [r["name"] for r in rows]}
    return {"yosys": version, "fitted": time.strftime("%Y-%m-%d"), "families": families, "tables": tables or {},
            "note": "fitted by `bitfold calibrate` on the regression set in hw/synth/regression.py"}
