"""The ``bitfold`` command: one thin verb per library function.

Every verb prints a short human summary, or with ``--json`` one JSON object as the last line of
stdout. Exit status (:data:`EXIT`):

* 0: done, and every comparison it made agreed;
* 1: done, and a comparison found a mismatch (``check``, ``sim``; ``summary`` when the run's current
  results are not bit-exact);
* 2: an error in the input, the files or the environment (a bad option, a missing, damaged or
  edited file, a stale upstream result, a failed tool run, a folder that cannot be written).
  stderr gets one line ``bitfold VERB: error: WHAT`` naming the file, layer or option (a failed
  tool run adds the end of its log, indented); with ``--json`` the last line of stdout is
  ``{"error": WHAT, "where": FILE-OR-OPTION}``;
* 3: a bug in bitfold: the traceback, then one line saying so (and the error JSON with ``--json``);
* 130: interrupted (Ctrl-C); every file of the run is the old one or the complete new one.
"""

import argparse
import json
import os
import sys
from pathlib import Path

from hw.errors import BitfoldError

__all__ = ["main", "EXIT"]

EXIT = {"ok": 0, "mismatch": 1, "error": 2, "bug": 3, "interrupted": 130}


class _UsageError(Exception):
    """A command line argparse rejects (raised instead of argparse's exit)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise _UsageError(message)


def _emit(args, result, human):
    if args.json:
        print(json.dumps(result))
    else:
        human(result)


def _table(rows, header):
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]

    def line(r):
        cells = zip(r, widths, strict=True)
        return "  ".join(str(v).rjust(w) if i else str(v).ljust(w) for i, (v, w) in enumerate(cells))

    print(line(header))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print(line(r))


def _pct(v):
    return "-" if v is None else f"{100 * v:.2f}%"


# -- verbs ---------------------------------------------------------------------------------------

def cmd_train(args):
    from .flow import train_run

    r = train_run(args.model, args.out, dataset=args.dataset, epochs=args.epochs, seed=args.seed,
                  input_bits=args.input_bits, force=args.force, progress=not args.json,
                  mst_lambda=args.mst_lambda, mst_depth=args.mst_depth, train_images=args.train_images)
    subset = "" if r["train_images"] is None else f" (its first {r['train_images']} training images)"
    _emit(args, r, lambda r: print(
        f"trained {r['model']} on {r['dataset']}{subset}"
        f" for {r['epochs']} epochs in {r['train_s']:.1f} s: "
        f"test accuracy {_pct(r['test_accuracy'])}; run folder {r['run']}"))
    return 0


def cmd_import(args):
    from .flow import import_run

    r = import_run(args.file, args.out, dataset=args.dataset, force=args.force)
    _emit(args, r, lambda r: print(f"imported {r['source']} ({r['layers']} IR nodes) into {r['run']}"))
    return 0


def cmd_check(args):
    from .check import check_run

    r = check_run(args.run, images=args.images, random=args.random, progress=not args.json)

    def human(r):
        print(f"check {r['run']}: {r['images']} images ({r['inputs']})")
        _table([[x["name"], x["op"], "x".join(map(str, x["shape"])),
                 "-" if x["mismatches_torch"] is None else x["mismatches_torch"],
                 "-" if x["mismatches_qonnx"] is None else x["mismatches_qonnx"]] for x in r["layers"]],
               ["layer", "op", "shape", "torch≠ref", "qonnx≠ref"])
        print(f"accuracy: torch {_pct(r['accuracy_torch'])}  qonnx {_pct(r['accuracy_qonnx'])}  "
              f"reference {_pct(r['accuracy_reference'])}")
        mt = "-" if r["mismatches_torch"] is None else r["mismatches_torch"]
        print(f"images with any mismatch: torch {mt}, qonnx {r['mismatches_qonnx']}  ->  "
              f"{'BIT-EXACT' if r['ok'] else 'MISMATCH'}")

    _emit(args, r, human)
    return 0 if r["ok"] else 1


def cmd_compile(args):
    from .compile import compile_run

    r = compile_run(args.run, fold=args.fold, target_cycles=args.target_cycles, mst=args.mst, popcount=args.popcount,
                    family=args.family, top=args.top, interface=args.interface, cache=not args.no_cache)

    def human(r):
        print(f"{'up to date' if r['up_to_date'] else 'compiled'} {r['run']} -> {r['rtl']} "
              f"({r['verilog_bytes'] / 1e6:.2f} MB; module {r['top']}, {r['interface']} interface)")
        _table([[x["name"], x["op"], x["pe"] or "-", x["simd"] or "-", x["weight_mode"] or "-", x["cycles_per_image"]]
                for x in r["layers"]], ["layer", "op", "PE", "SIMD", "weights", "cycles/image"])
        for x in r["layers"]:
            if x.get("mst"):
                m = x["mst"]
                print(f"{x['name']}: MST schedule depth {m['depth']}, {m['xnors_per_position']} of "
                      f"{m['plain_xnors_per_position']} XNORs ({m['compression']}x)"
                      + ("" if m["built"] else " - not built: " + x.get("note", "")))
        print(f"cycles per image {r['cycles_per_image']} (bottleneck {r['bottleneck']}), "
              f"latency about {r['latency_cycles']} cycles")
        pc = r["popcount"]
        print("popcount: " + (f"compressor trees for {pc['family']} LUTs" if pc["style"] == "compressor"
                              else "adder trees"))
        if r["invalidated"]:
            print(f"removed results of the previous design: {', '.join(r['invalidated'])}")

    _emit(args, r, human)
    return 0


def cmd_sim(args):
    from .simulate import sim_run

    r = sim_run(args.run, images=args.images, random=args.random, waves=args.waves, progress=not args.json)

    def human(r):
        print(f"sim {r['run']}: {r['images']} images ({r['inputs']}) through the Verilated RTL, {r['stress']}")
        print(f"accuracy: RTL {_pct(r['rtl_accuracy'])}  reference {_pct(r['reference_accuracy'])}; "
              f"mismatches {r['mismatches']}")
        print(f"cycles per image {r['cycles_per_image']:g} (analytic {r['cycles_per_image_analytic']}), "
              f"latency {r['latency_cycles']} cycles; build {r['build_s']} s, simulation {r['sim_s']} s")
        if r["mismatches"]:
            print(f"first mismatch: {r['first_mismatch']}")

    _emit(args, r, human)
    return 0 if r["mismatches"] == 0 else 1


def cmd_lint(args):
    from .compile import lint_run

    r = lint_run(args.run, waivers=not args.no_waivers)

    def human(r):
        print(f"lint {r['verilog']} ({r['command']}, in rtl/): {r['warnings']} warning(s)"
              + "".join(f"\n  {rule}: {n}" for rule, n in r["by_rule"].items()))
        for line in r["messages"][:5]:
            print(f"  {line}")

    _emit(args, r, human)
    return 0 if r["warnings"] == 0 else 1


def cmd_summary(args):
    from .summary import summarize

    r = summarize(args.run)

    def human(r):
        print(f"{r['run']}: {r['model']} on {r['dataset']}")
        checked, simulated = _dash(r.get("images_checked")), _dash(r.get("images_simulated"))
        rows = [["images", checked, checked, checked, simulated],
                ["accuracy", _pct(r.get("accuracy_torch")), _pct(r.get("accuracy_qonnx")),
                 _pct(r.get("accuracy_reference")), _pct(r.get("accuracy_rtl"))],
                ["images with a mismatch", _dash(r.get("mismatches_torch")), _dash(r.get("mismatches_qonnx")), "-",
                 _dash(r.get("mismatches_rtl"))]]
        _table(rows, ["", "torch", "qonnx", "reference", "RTL"])
        if "cycles_per_image" in r:
            rate = r["images_per_s_at_100mhz"]
            print(f"cycles per image {r['cycles_per_image']:g} (analytic {r['cycles_per_image_analytic']}), latency "
                  f"{r['latency_cycles']} cycles" + (f"; {rate:,.0f} images/s at 100 MHz" if rate else ""))
        elif "cycles_per_image_analytic" in r:
            print(f"cycles per image {r['cycles_per_image_analytic']} (analytic; the RTL is not simulated)")
        for fam, e in r.get("resources", {}).items():
            est = e.get("estimate", {})
            line = (f"{fam}: LUT {e['synth']['lut']} synthesized / {est.get('lut', '-')} estimated, FF "
                    f"{e['synth']['ff']} / {est.get('ff', '-')}, BRAM {e['synth']['bram']} / {est.get('bram', '-')}")
            if e.get("fmax_mhz"):
                line += f"; Fmax {e['fmax_mhz']:.1f} MHz"
                if e.get("images_per_s_at_fmax"):
                    line += f" = {e['images_per_s_at_fmax']:,.0f} images/s"
            print(line)
        for fam, e in r.get("resources", {}).items():
            if e.get("fmax_mhz") and e.get("images_per_s_at_fmax") and "cycles_per_image" in r:
                print(f"throughput on {fam}: {r['cycles_per_image']:g} cycles per image at {e['fmax_mhz']:.1f} MHz = "
                      f"{e['images_per_s_at_fmax']:,.0f} images/s")
        for b, d in r.get("boards", {}).items():
            print(f"{b}: {d['bitstream']}, Fmax {d['fmax_mhz']} MHz against its {d['clock_mhz']:g} MHz clock; "
                  f"load it with `{d['program']}`")
        for line in r["stale"]:
            print(f"stale, not shown: {line}")
        levels = [name for key, name in (("mismatches_torch", "torch"), ("mismatches_qonnx", "QONNX"))
                  if r.get(key) is not None]
        levels = levels + ["reference"] if levels else []
        if r.get("mismatches_rtl") is not None:
            levels.append("RTL")
        if not r["bit_exact"]:
            print("NOT BIT-EXACT" + (" (see above)" if levels else ": nothing is checked yet; run `bitfold check`"))
        else:
            print("BIT-EXACT: " + " = ".join(levels)
                  + ("" if "RTL" in levels else f" (the RTL is not simulated: run `bitfold sim {r['run']}`)"))

    _emit(args, r, human)
    return 0 if r["bit_exact"] else 1


def cmd_estimate(args):
    from .resources import estimate_run

    r = estimate_run(args.run, args.family)

    def human(r):
        print(f"estimate for {r['run']} on {r['family']} ({r['estimate_ms']} ms)")
        _table([[n, v["lut"], v["ff"], v["lutram"], v["srl"], v["bram"]] for n, v in r["layers"].items()]
               + [["total", *[r["total"][k] for k in ("lut", "ff", "lutram", "srl", "bram")]]],
               ["layer", "LUT", "FF", "LUTRAM", "SRL", "BRAM"])
        print(f"(calibration: {r['calibration']})")

    _emit(args, r, human)
    return 0


def cmd_synth(args):
    from hw.synth import COUNTS

    from .resources import synth_run

    r = synth_run(args.run, args.family, pnr=args.pnr, device=args.device, per_layer=not args.total_only,
                  progress=not args.json, freq=args.freq)

    def human(r):
        print(f"synthesis of {r['run']} on {r['family']} ({r['yosys']}, {r['synth_s']} s)")
        heads = {"lut": "LUT", "lut_sites": "LUT sites", "ff": "FF", "carry": "carry", "mux": "mux",
                 "lutram": "LUTRAM", "srl": "SRL", "bram": "BRAM", "dsp": "DSP"}
        keys = [k for k in COUNTS if k in r["total"]]  # LUT sites where the family's are known (xc7)
        rows = [[n, *[v.get(k, "-") for k in keys]] for n, v in r["layers"].items()]
        _table(rows + [["total", *[r["total"][k] for k in keys]]], ["layer", *[heads[k] for k in keys]])
        if "pnr" in r:
            print(f"place and route on {r['pnr']['device']}: Fmax {r['fmax_mhz']} MHz"
                  + (f" (aimed at {r['pnr']['target_mhz']:g} MHz with rip-up)" if r["pnr"].get("rip_up") else "")
                  + (f", {r['images_per_s_at_fmax']:,.0f} images/s" if r.get("images_per_s_at_fmax") else ""))
            cp = r["pnr"].get("critical_path")
            if cp:
                def at(w, cell):
                    return f"{cell} ({'layer ' + w['layer'] + ', ' if w['layer'] else ''}{w['stage'] or 'top level'})"

                print(f"critical path: {cp['delay_ns']} ns ({cp['logic_levels']} logic levels, {cp['logic_ns']} ns "
                      f"logic, {cp['routing_ns']} ns routing) from {at(cp['from_where'], cp['from'])} to "
                      f"{at(cp['to_where'], cp['to'])}")
        if r.get("note"):
            print("note: " + r["note"])

    _emit(args, r, human)
    return 0


def cmd_deploy(args):
    from .deploy import deploy_run

    r = deploy_run(args.run, args.board, baud=args.baud, clock_mhz=args.clock_mhz, progress=not args.json)

    def human(r):
        u = r["utilization"]
        used = ", ".join(f"{k} {v['used']:,}/{v['available']:,}" for k, v in u.items()
                         if k in ("TRELLIS_COMB", "TRELLIS_FF", "DP16KD", "ICESTORM_LC", "ICESTORM_RAM"))
        print(f"{r['board']} ({r['family']} {r['device']}): {used}")
        clock = (f"its {r['clock_mhz']:g} MHz clock (a PLL from the board's {r['oscillator_mhz']:g} MHz)" if r["pll"]
                 else f"the board's {r['clock_mhz']:g} MHz clock")
        print(f"Fmax {r['fmax_mhz']} MHz against {clock}: "
              f"{r['cycles_per_image']} cycles per image, {r['images_per_s']:,.0f} images/s in the core")
        print(f"bitstream: {Path(r['run']) / 'board' / r['board'] / r['bitstream']} ({r['bitstream_bytes']:,} bytes)")
        print(f"with the board: {r['program']}")
        print(f"  then, over {r['uart']['connect']} at {r['uart']['baud']} baud "
              f"(the link carries {r['link_images_per_s']:,.0f} images/s):")
        print(f"  bitfold board {r['run']} --board {r['board']} --port /dev/ttyUSB0")

    _emit(args, r, human)
    return 0


def cmd_board(args):
    from .board import board_run

    r = board_run(args.run, args.board, port=args.port, images=args.images, simulate=args.simulate,
                  timeout_s=args.timeout, progress=not args.json)

    def human(r):
        acc = "" if r["accuracy"] is None else f", accuracy {100 * r['accuracy']:.2f}%"
        print(f"{r['images']} image(s) through {r['link']}: {r['mismatches']} mismatch(es) with the reference"
              f"{acc}, {r['images_per_s']} images/s")
        if r.get("first_mismatch"):
            print(f"first mismatch: {r['first_mismatch']}")

    _emit(args, r, human)
    return 0 if r["mismatches"] == 0 else 1


def cmd_report(args):
    from .resources import report_run

    r = report_run(args.run, args.family, synth=not args.no_synth, progress=not args.json)
    _emit(args, r, lambda r: print(f"wrote {r['run']}/report/: report.md, report.json and report_luts.png"
                                   + "".join(f"\n  not used, stale: {line}" for line in r["stale"])))
    return 0


def cmd_calibrate(args):
    from .resources import calibrate_run

    r = calibrate_run(tuple(args.family), out=args.out, baselines=args.baselines, progress=not args.json,
                      jobs=args.jobs)
    _emit(args, r, lambda r: print(f"refitted {r['calibration']} for {', '.join(r['families'])} ({r['yosys']}); "
                                   f"synthesized counts in {r['baseline']}"))
    return 0


def _dash(v):
    return "-" if v is None else v


def cmd_bench(args):
    from . import bench

    r = bench.run(args.name, run=args.run, models=args.models, points=args.points)
    _emit(args, r, lambda r: print(json.dumps(r, indent=2)))
    return 0


# -- parser --------------------------------------------------------------------------------------

def _jobs(text):
    """--jobs: a count of parallel processes, 0 meaning one per core."""
    try:
        n = int(text)
    except ValueError:
        n = -1
    if n < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0 (0: one per core), got {text!r}")
    return n


def _estimated_family(name):
    """--family of estimate, report and calibrate: a family the estimator models, or why not."""
    from .resources import ESTIMATED, NOT_ESTIMATED

    if name in ESTIMATED:
        return name
    if name in NOT_ESTIMATED:
        raise argparse.ArgumentTypeError(f"the estimator does not model {name}: {NOT_ESTIMATED[name]}")
    raise argparse.ArgumentTypeError(f"invalid choice: {name!r} (choose from {', '.join(map(repr, ESTIMATED))})")


def build_parser():
    from bnn.data import DATASETS
    from bnn.models import MODELS

    from . import __version__
    from .bench import BENCHES

    p = _Parser(prog="bitfold", description="Binarized neural networks to bit-exact FPGA dataflow.")
    p.add_argument("--version", action="version", version=f"bitfold {__version__}")
    sub = p.add_subparsers(dest="verb", required=True, metavar="VERB", parser_class=_Parser)

    def verb(name, fn, help):
        s = sub.add_parser(name, help=help, description=help)
        s.add_argument("--json", action="store_true", help="print one JSON object as the last line")
        s.set_defaults(fn=fn)
        return s

    s = verb("train", cmd_train, "train a zoo model and make a run folder")
    s.add_argument("--model", required=True, choices=MODELS)
    s.add_argument("--dataset", choices=DATASETS, help="default: the model's own")
    s.add_argument("--epochs", type=int, help="default: the model's own")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--input-bits", type=int,
                   help="1 = binarized input, k = k-bit unsigned (default: the model's, 1 for tfc/sfc/lfc, else 8)")
    s.add_argument("--mst-lambda", type=float, help="weight of the MST regularizer (default: the model's; 0 = off)")
    s.add_argument("--mst-depth", type=int, help="depth bound of the trained MST schedules")
    s.add_argument("--train-images", type=int, metavar="N",
                   help="train on the first N images of the training split only (a quick run; default: all)")
    s.add_argument("--out", required=True, help="run folder, e.g. build/sfc")
    s.add_argument("--force", action="store_true", help="replace an existing run folder")

    s = verb("import", cmd_import, "make a run folder from a QONNX file of the supported ops (see README)")
    s.add_argument("file")
    s.add_argument("--out", required=True)
    s.add_argument("--dataset", choices=DATASETS)
    s.add_argument("--force", action="store_true")

    s = verb("check", cmd_check, "compare torch, QONNX and the IR reference bit for bit")
    s.add_argument("run")
    g = s.add_mutually_exclusive_group()
    g.add_argument("--images", type=int, help="only the first N test images")
    g.add_argument("--random", type=int, metavar="N", help="N random inputs instead of the dataset")

    s = verb("compile", cmd_compile, "fold the IR and emit Verilog + manifest under RUN/rtl/")
    s.add_argument("run")
    s.add_argument("--fold", default="auto",
                   help="'auto' (default: the least area meeting --target-cycles), 'parallel' (every layer "
                        "fully unrolled, constant weights) or a fold.json file")
    s.add_argument("--target-cycles", type=int, help="cycles per image for --fold auto (default: the fastest)")
    s.add_argument("--mst", help="MST schedules: 'off', or a depth bound D to compute them (default: the run's own)")
    s.add_argument("--popcount", default="compressor", choices=("compressor", "tree"),
                   help="XNOR-popcount of binary layers: compressor trees (default) or adder trees")
    s.add_argument("--family", default="xc7", choices=("xc7", "ecp5", "ice40"),
                   help="FPGA family whose LUTs the compressor trees are scheduled for (default xc7; the Verilog "
                        "is correct on every family)")
    s.add_argument("--top", default="bitfold_top",
                   help="name of the top module and prefix of every other module (default bitfold_top)")
    s.add_argument("--interface", default="axis", choices=("axis", "stream"),
                   help="top-level ports: AXI4-Stream with ap_clk/ap_rst_n, byte-padded TDATA and tlast "
                        "(default), or the bare stream core (clk, rst, i__*, o__*)")
    s.add_argument("--no-cache", action="store_true",
                   help="compile and elaborate the Verilog even when rtl/ is up to date or the Verilog cache "
                        "(<user cache>/verilog) holds this design from an earlier compile")

    s = verb("sim", cmd_sim, "stream the test split through the Verilated RTL and compare bit for bit")
    s.add_argument("run")
    g = s.add_mutually_exclusive_group()
    g.add_argument("--images", type=int, help="only the first N test images")
    g.add_argument("--random", type=int, metavar="N", help="N random inputs instead of the dataset")
    s.add_argument("--waves", action="store_true", help="write an FST waveform under RUN/sim/")

    s = verb("lint", cmd_lint, "lint the compiled Verilog with Verilator -Wall (exit 1 on any warning)")
    s.add_argument("run")
    s.add_argument("--no-waivers", action="store_true",
                   help="without the waiver file compile wrote beside the Verilog (RTL/<top>.vlt)")

    families = ("xc7", "ice40", "ecp5")
    estimated = {"default": "xc7", "type": _estimated_family, "metavar": "{xc7,ecp5}"}
    s = verb("estimate", cmd_estimate, "LUT/FF/BRAM per layer of a compiled run, in milliseconds (xc7, ecp5)")
    s.add_argument("run")
    s.add_argument("--family", **estimated)

    s = verb("synth", cmd_synth, "synthesize a compiled run with Yosys (and place and route with nextpnr)")
    s.add_argument("run")
    s.add_argument("--family", default="xc7", choices=families)
    s.add_argument("--pnr", action="store_true", help="place and route (ecp5, ice40) for Fmax and utilization")
    s.add_argument("--device", help="ecp5: 12k, 25k, 45k, 85k (default); ice40: hx8k (default), up5k, hx1k")
    s.add_argument("--freq", type=float, help="--pnr: a clock to aim at, in MHz: nextpnr re-routes the paths that "
                                               "miss it, pass after pass (timing-driven rip-up; aimed beyond "
                                               "reach it can run for many minutes)")
    s.add_argument("--total-only", action="store_true", help="skip the per-layer syntheses")

    from .deploy import BOARDS, DEFAULT_BAUD

    s = verb("deploy", cmd_deploy, "build a bitstream for an open board: the compiled core behind a UART")
    s.add_argument("run")
    s.add_argument("--board", required=True, choices=BOARDS)
    s.add_argument("--baud", type=int, default=DEFAULT_BAUD, help=f"UART baud rate (default {DEFAULT_BAUD})")
    s.add_argument("--clock-mhz", type=float, help="run the design at this clock, made by a PLL from the board's "
                                                   "oscillator (default: the oscillator itself)")

    s = verb("board", cmd_board, "stream the test split through a board (or the simulated board top) and "
                                 "compare every result with the reference")
    s.add_argument("run")
    s.add_argument("--board", choices=BOARDS, help="the board whose `bitfold deploy` build is loaded")
    g = s.add_mutually_exclusive_group(required=True)
    g.add_argument("--port", help="its serial port, e.g. /dev/ttyUSB0")
    g.add_argument("--simulate", action="store_true", help="the board top under Verilator instead (the "
                                                           "bitstream's RTL, bit-level UART: use --images)")
    s.add_argument("--images", type=int, help="only the first N test images")
    s.add_argument("--timeout", type=float, default=2.0, help="seconds to wait for a result (default 2)")

    s = verb("report", cmd_report, "RUN/report/: report.md, report.json and a LUT plot (accuracy, folding, cycles, "
                                   "resources)")
    s.add_argument("run")
    s.add_argument("--family", **estimated)
    s.add_argument("--no-synth", action="store_true", help="use an earlier `bitfold synth` result if any")

    s = verb("calibrate", cmd_calibrate, "synthesize the regression set and refit the estimator (xc7, ecp5)")
    s.add_argument("--family", nargs="+", default=["xc7", "ecp5"], type=_estimated_family, metavar="{xc7,ecp5}")
    s.add_argument("--out", help="calibration file to write (default: calibration.json in the user cache, "
                                 "$BITFOLD_CACHE or ~/.cache/bitfold; developers: hw/estimate/calibration.json)")
    s.add_argument("--baselines", help="folder for the synthesized counts (default: baselines/ in the user cache; "
                                       "developers: hw/synth/baselines)")
    s.add_argument("-j", "--jobs", type=_jobs, default=1, help="syntheses run at once (0: one per core; default 1)")

    s = verb("summary", cmd_summary, "what check, compile and sim established for a run")
    s.add_argument("run")

    s = verb("bench", cmd_bench, "run a benchmark and print its figures")
    s.add_argument("name", choices=BENCHES)
    s.add_argument("--run", help="use this run folder instead of training a fresh model")
    s.add_argument("--models", nargs="+", metavar="MODEL", choices=MODELS,
                   help="throughput, popcount: these zoo models only (default: the bench's list)")
    s.add_argument("--points", nargs="+", metavar="POINT",
                   help="throughput: these design points only, of 'default', 'fastest' and 'finn' (sfc "
                        "only; all three when not given)")
    return p


def _where(args, e) -> str:
    """What a failure is about: the error's own ``where``, else the file its message starts with,
    else the verb's run folder or file."""
    if getattr(e, "where", None):
        return e.where
    head = str(e).split(": ", 1)[0]
    if head and " " not in head and ("/" in head or Path(head).exists()):
        return head
    for key in ("run", "file", "out"):
        if getattr(args, key, None):
            return str(getattr(args, key))
    return args.verb


def _fail(args, argv, message, where, code):
    """Report a failure: one line on stderr (further lines indented), the error JSON with --json."""
    verb = getattr(args, "verb", None) or next((a for a in argv if not a.startswith("-")), None)
    first, *rest = str(message).splitlines() or [""]
    label = "internal error" if code == EXIT["bug"] else "error"
    print(f"bitfold{' ' + verb if verb else ''}: {label}: {first}", file=sys.stderr)
    for line in rest:
        print(f"    {line}", file=sys.stderr)
    if "--json" in argv:
        sys.stdout.flush()
        print(json.dumps({"error": str(message), "where": where}), flush=True)
    return code


def main(argv=None):
    """Run one verb; returns the exit status (see the module docstring)."""
    os.environ.setdefault("TORCHDYNAMO_VERBOSE", "0")
    argv = [str(a) for a in (sys.argv[1:] if argv is None else argv)]
    args = None
    try:
        args = build_parser().parse_args(argv)
        return args.fn(args)
    except _UsageError as e:
        head = str(e).split(": ", 1)[0]  # "argument --family: ..." is about --family
        where = head.split(" ", 1)[1].split("/")[0] if head.startswith("argument ") else "arguments"
        return _fail(args, argv, e, where, EXIT["error"])
    except BitfoldError as e:
        return _fail(args, argv, e, _where(args, e), EXIT["error"])
    except KeyboardInterrupt:
        return _fail(args, argv, "interrupted", getattr(args, "verb", None) or "bitfold", EXIT["interrupted"])
    except OSError as e:  # the environment: a folder that cannot be written, a full disk
        what = f"{e.filename}: {e.strerror}" if e.filename else (e.strerror or str(e))
        where = str(e.filename) if e.filename else (_where(args, e) if args else "bitfold")
        return _fail(args, argv, what, where, EXIT["error"])
    except MemoryError:
        return _fail(args, argv, "out of memory", getattr(args, "verb", None) or "bitfold", EXIT["error"])
    except Exception as e:
        import traceback

        traceback.print_exc()
        return _fail(args, argv, f"{type(e).__name__}: {e} (a bug in bitfold; please report it with the "
                                 "traceback above)", getattr(args, "verb", None) or "bitfold", EXIT["bug"])


if __name__ == "__main__":
    sys.exit(main())
