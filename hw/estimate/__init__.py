"""The analytic resource estimator: LUT, FF, LUTRAM and BRAM of a design in milliseconds.

It reads hardware plans only (:mod:`hw.plan`): per unit (:mod:`hw.estimate.components`) a linear
model over features of its plan, with one fitted cost per feature and family, stored in
``calibration.json`` beside the Yosys version it was fitted on (``bitfold calibrate`` refits it,
see :mod:`hw.synth.calibrate`); flip-flops, block RAM and distributed RAM are counted
structurally. A layer's estimate is the sum over its stages; the design's, the sum over layers.
"""

import functools
import json
from pathlib import Path

from ..families import family
from .components import lut_features, structural

__all__ = ["estimate", "estimate_units", "load_calibration", "CALIBRATION", "COUNTS"]

CALIBRATION = Path(__file__).with_name("calibration.json")
COUNTS = ("lut", "ff", "lutram", "srl", "bram")


@functools.lru_cache(maxsize=4)
def _load(path: str, mtime: int):
    return json.loads(Path(path).read_text())


def load_calibration(path=CALIBRATION) -> dict:
    path = Path(path)
    return _load(str(path), path.stat().st_mtime_ns)


def estimate_units(units, family_name: str, calibration=None) -> dict:
    """Sum of the estimates of unit plans ``units``."""
    fam = family(family_name)
    calibration = calibration or load_calibration()
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
