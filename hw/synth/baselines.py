"""Synthesized counts of the regression set, kept in the repository per Yosys version.

Tests compare a fresh synthesis of a few small designs with these baselines (same Yosys version:
the counts must agree) and check the estimator's error against them.
"""

import json
import re
from pathlib import Path

from ..io import atomic_write_json

__all__ = ["write_baseline", "load_baseline", "baseline_path"]

FOLDER = Path(__file__).with_name("baselines")


def baseline_path(version: str) -> Path:
    tag = re.sub(r"[^0-9A-Za-z.]+", "-", version.split(" (")[0]).strip("-").lower()
    return FOLDER / f"{tag}.json"


def write_baseline(rows_by_family) -> Path:
    version = next(iter(rows_by_family.values()))[0]["yosys"]
    doc = {"yosys": version, "families": {fam: {r["name"]: {k: r[k] for k in ("kind", "lut", "ff", "carry", "mux",
                                                                          "lutram", "srl", "bram", "dsp", "seconds")}
                                                 for r in rows} for fam, rows in rows_by_family.items()}}
    return atomic_write_json(baseline_path(version), doc)


def load_baseline(version: str) -> dict | None:
    p = baseline_path(version)
    return json.loads(p.read_text()) if p.exists() else None
