"""The analytic resource estimator: LUT, FF, LUTRAM and BRAM of a design in milliseconds.

It reads hardware plans only (:mod:`hw.plan`): per unit (:mod:`hw.estimate.components`) a linear
model over features of its plan, with one fitted cost per feature and family, stored in
``calibration.json`` beside the Yosys version it was fitted on (``bitfold calibrate`` refits it,
see :mod:`hw.synth.calibrate`); flip-flops, block RAM and distributed RAM are counted
structurally. A layer's estimate is the sum over its stages; the design's, the sum over layers.

Which calibration: the one ``bitfold calibrate`` wrote into the user cache
(``$BITFOLD_CACHE/calibration.json``, see :func:`hw.io.user_cache`) when there is one, else the one
shipped with the package (``hw/estimate/calibration.json``, refitted by developers with
``bitfold calibrate --out hw/estimate/calibration.json``).
"""

import functools
import json
from pathlib import Path

from ..errors import BitfoldError
from ..families import family
from ..io import user_cache
from .components import lut_features, structural

__all__ = ["estimate", "estimate_units", "load_calibration", "calibration_path", "CALIBRATION", "COUNTS"]

CALIBRATION = Path(__file__).with_name("calibration.json")
COUNTS = ("lut", "ff", "lutram", "srl", "bram")


def calibration_path() -> Path:
    """The calibration the estimator uses: the user's (``bitfold calibrate``) or the package's."""
    user = user_cache() / "calibration.json"
    return user if user.is_file() else CALIBRATION


@functools.lru_cache(maxsize=4)
def _load(path: str, mtime: int):
    try:
        doc = json.loads(Path(path).read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BitfoldError(f"{path}: not a valid calibration file ({e}); run `bitfold calibrate` to write it again",
                           where=path) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("families"), dict):
        raise BitfoldError(f"{path}: not a calibration file (no \"families\"); run `bitfold calibrate`", where=path)
    return doc


def load_calibration(path=None) -> dict:
    path = Path(path) if path is not None else calibration_path()
    try:
        mtime = path.stat().st_mtime_ns
    except FileNotFoundError:
        raise BitfoldError(f"{path}: no estimator calibration; run `bitfold calibrate`", where=path) from None
    return _load(str(path), mtime)


def estimate_units(units, family_name: str, calibration=None) -> dict:
    """Sum of the estimates of unit plans ``units``."""
    fam = family(family_name)
    calibration = calibration or load_calibration()
    if family_name not in calibration["families"]:
        raise BitfoldError(f"the estimator has no calibration for {family_name} (calibrated: "
                           f"{', '.join(calibration['families'])}); run `bitfold calibrate --family {family_name}`")
    coef, tables = calibration["families"][family_name]["lut"], calibration.get("tables")
    total = {"lut": 0.0, "ff": 0.0, "lutram": 0.0, "srl": 0.0, "bram": 0}
    for c in units:
        total["lut"] += sum(coef.get(f, 0.0) * v for f, v in lut_features(c, fam, tables).items())
        s = structural(c, fam)
        for k in ("ff", "lutram", "srl"):
            total[k] += s[k]
        total["bram"] += s["bram"]
    return {"lut": round(total["lut"]), "ff": round(total["ff"]), "lutram": round(total["lutram"]),
            "srl": round(total["srl"]), "bram": int(total["bram"])}


def estimate(plan, family_name: str, calibration=None) -> dict:
    """``{"layers": {name: estimate}, "total": estimate}`` of a :class:`~hw.plan.Plan`."""
    layers = {layer.name: estimate_units([s.unit for s in layer.stages], family_name, calibration)
              for layer in plan.layers}
    total = {k: sum(v[k] for v in layers.values()) for k in COUNTS}
    return {"layers": layers, "total": total}
