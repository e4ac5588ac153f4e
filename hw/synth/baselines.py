"""Synthesized counts of the regression set, kept in the repository per Yosys version.

Tests compare a fresh synthesis of a few small designs with these baselines (same Yosys version:
the counts must agree) and check the estimator's error against them.
"""

import json
import re
from pathlib import Path

from ..errors import BitfoldError
from ..io import atomic_write_json

__all__ = ["write_baseline", "load_baseline", "baseline_path"]

FOLDER = Path(__file__).with_name("baselines")


def baseline_path(version: str, folder=None) -> Path:
    tag = re.sub(r"[^0-9A-Za-z.]+", "-", version.split(" (")[0]).strip("-").lower()
    return Path(folder or FOLDER) / f"{tag}.json"


def write_baseline(rows_by_family, folder=None) -> Path:
    """Write the counts of ``rows_by_family`` into ``folder`` (default: the package's), keeping the
    families of an existing baseline of the same Yosys version that were not synthesized again."""
    version = next(iter(rows_by_family.values()))[0]["yosys"]
    path = baseline_path(version, folder)
    old = load_baseline(version, folder) or {}
    families = dict(old.get("families", {})) if old.get("yosys") == version else {}
    families.update({fam: {r["name"]: {k: r[k] for k in ("kind", "lut", "ff", "carry", "mux", "lutram", "srl", "bram",
                                                          "dsp", "seconds")}
                           for r in rows} for fam, rows in rows_by_family.items()})
    return atomic_write_json(path, {"yosys": version, "families": families})


def load_baseline(version: str, folder=None) -> dict | None:
    p = baseline_path(version, folder)
    if not p.exists():
        return None
    try:
        return json.loads(p.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise BitfoldError(f"{p}: not a valid baseline file ({e})", where=p) from None
