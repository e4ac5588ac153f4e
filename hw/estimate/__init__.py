"""The analytic resource estimator: LUT, FF, LUTRAM and BRAM of a design in milliseconds.

Per component (:mod:`hw.estimate.components`) a linear model over features derived from its
parameters, with one fitted cost per feature and family, stored in ``calibration.json`` beside the
Yosys version it was fitted on; flip-flops, block RAM and
distributed RAM are counted structurally. A layer's estimate is the sum over the stages it lowers
to; the design's, the sum over layers.

Which calibration: the one ``bitfold calibrate`` wrote into the user cache
(``$BITFOLD_CACHE/calibration.json``, see :func:`hw.io.user_cache`) when there is one, else the one
shipped with the package (``hw/estimate/calibration.json``, refitted by developers with
``bitfold calibrate --out hw/estimate/calibration.json``).
"""

import functools
import json
from pathlib import Path

from ..errors import BitfoldError
from ..io import user_cache
from ..synth.families import family
from .components import lut_features, structural

__all__ = ["estimate_stages", "estimate_lowered", "estimate_graph", "load_calibration", "calibration_path",
           "CALIBRATION"]

CALIBRATION = Path(__file__).with_name("calibration.json")


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


def estimate_stages(stages, family_name: str, calibration=None) -> dict:
    """Sum of the component estimates of ``stages`` (a list of ``(name, component)``)."""
    fam = family(family_name)
    calibration = calibration or load_calibration()
    if family_name not in calibration["families"]:
        raise BitfoldError(f"the estimator has no calibration for {family_name} (calibrated: "
                           f"{', '.join(calibration['families'])}); run `bitfold calibrate --family {family_name}`")
    coef, tables = calibration["families"][family_name]["lut"], calibration.get("tables")
    total = {"lut": 0.0, "ff": 0.0, "lutram": 0.0, "srl": 0.0, "bram": 0}
    for _, c in stages:
        total["lut"] += sum(coef.get(f, 0.0) * v for f, v in lut_features(c, fam, tables).items())
        s = structural(c, fam)
        for k in ("ff", "lutram", "srl"):
            total[k] += s[k]
        total["bram"] += s["bram"]
    return {"lut": round(total["lut"]), "ff": round(total["ff"]), "lutram": round(total["lutram"]),
            "srl": round(total["srl"]), "bram": int(total["bram"])}


def estimate_lowered(lowered, family_name: str, calibration=None) -> dict:
    """``{"layers": {name: estimate}, "total": estimate}`` of a lowered design."""
    stages = dict(lowered.top.stages)
    layers = {info["name"]: estimate_stages([(n, stages[n]) for n in info["stages"]], family_name, calibration)
              for info in lowered.layers}
    total = {k: sum(v[k] for v in layers.values()) for k in ("lut", "ff", "lutram", "srl", "bram")}
    return {"layers": layers, "total": total}


def estimate_graph(graph, family_name: str, fifo: str = "image", calibration=None) -> dict:
    from ..lower import lower

    return estimate_lowered(lower(graph, fifo=fifo), family_name, calibration)
