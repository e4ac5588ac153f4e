"""Emission: a compiled design -> files. Verilog through ``amaranth.back.verilog`` (of the
components built from the plan, under a comment header documenting the top's ports, beat layouts
and timing) and a JSON manifest of the ports, stream layouts, folding, timing and storage, all read
from the plan. Every module of the Verilog is named after the top (``<top>`` and ``<top>.<path>``),
so two designs compiled with different names live in one project."""

import time
from pathlib import Path

from .io import atomic_write_json, atomic_write_text
from .ir.graph import WeightMode
from .plan import JetPlan, MSTPlan, MVTUPlan, Plan, Popcount, QueueKind, plan_graph
from .plan.interface import Interface, axis_plan
from .verilog import waiver_file
from .verilog_cache import key as cache_key
from .verilog_cache import load as cache_load
from .verilog_cache import store as cache_store

__all__ = ["emit_verilog", "verilog_header", "manifest", "write_design", "plan_of", "port_names", "fusesoc_core",
           "top_latency"]


def emit_verilog(plan: Plan, name: str, interface: Interface = Interface.STREAM, cache: bool = True) -> str:
    """The Verilog of ``plan``'s top (module ``name``), under its comment header; read from the
    Verilog cache (:mod:`hw.verilog_cache`) when this design was emitted before, unless ``cache``
    is false (then elaborated, and the cache entry written anew)."""
    return _emit(plan, name, interface, cache)[0]


def _emit(plan: Plan, name: str, interface: Interface, cache: bool) -> tuple[str, bool]:
    """``(Verilog, whether it came from the cache)``."""
    k = cache_key(plan, name, Interface(interface))
    text = cache_load(k) if cache else None
    if text is not None:
        return text, True
    from amaranth.back import rtlil

    from .rtl.build import top
    from .verilog import fast_memory_init, rtlil_to_verilog

    with fast_memory_init():
        text = rtlil_to_verilog(rtlil.convert(top(plan, interface), name=name, emit_src=False))
    text = verilog_header(plan, name, interface) + text
    cache_store(k, text)
    return text, False


def top_latency(plan: Plan, interface: Interface) -> int:
    """Cycles from an image's first beat at the top's ports to its result there."""
    return plan.latency + (axis_plan(plan).latency if Interface(interface) == Interface.AXIS else 0)


def port_names(interface: Interface) -> dict:
    """The top's port names: clock, reset, input stream, output stream."""
    if Interface(interface) == Interface.AXIS:
        return {"clock": "ap_clk", "reset": "ap_rst_n",
                "i": ["s_axis_tdata", "s_axis_tvalid", "s_axis_tready", "s_axis_tlast"],
                "o": ["m_axis_tdata", "m_axis_tvalid", "m_axis_tready", "m_axis_tlast"]}
    return {"clock": "clk", "reset": "rst", "i": ["i__payload", "i__valid", "i__ready"],
            "o": ["o__payload", "o__valid", "o__ready"]}


def _ports(plan: Plan, interface: Interface) -> list:
    """(port, direction, meaning) of the top's ports, for the header."""
    inl, outl = plan.input, plan.output
    if interface == Interface.STREAM:
        return [("clk", "in", "clock, rising edge"), ("rst", "in", "reset, synchronous, active high"),
                (f"i__payload[{inl.beat_bits - 1}:0]", "in", "an input beat"), ("i__valid", "in", ""),
                ("i__ready", "out", ""), (f"o__payload[{outl.beat_bits - 1}:0]", "out", "the result of an image"),
                ("o__valid", "out", ""), ("o__ready", "in", "")]
    a = axis_plan(plan)
    return [("ap_clk", "in", "clock, rising edge"), ("ap_rst_n", "in", "reset, synchronous, active low"),
            (f"s_axis_tdata[{a.s_tdata_bits - 1}:0]", "in", f"an input beat in [{inl.beat_bits - 1}:0]"
             + ("; the bits above are ignored" if a.s_tdata_bits > inl.beat_bits else "")),
            ("s_axis_tvalid", "in", ""), ("s_axis_tready", "out", ""),
            ("s_axis_tlast", "in", "set on the last beat of each image"),
            (f"m_axis_tdata[{a.m_tdata_bits - 1}:0]", "out",
             f"the result in [{outl.beat_bits - 1}:0], error flag at bit {a.error_bit}, 0 above"),
            ("m_axis_tvalid", "out", ""), ("m_axis_tready", "in", ""),
            ("m_axis_tlast", "out", "always set: one result beat per image")]


def verilog_header(plan: Plan, name: str, interface: Interface = Interface.STREAM) -> str:
    """The comment block above the emitted Verilog: ports, beat layouts, cycles and latency."""
    interface = Interface(interface)
    inl, outl = plan.input, plan.output
    sign = "signed (two's complement)" if inl.signed else "unsigned"
    kind = ("binary (the bit itself)" if inl.element_bits == 1 and not inl.signed
            else f"{inl.element_bits}-bit {sign} codes")
    per = f"{inl.pixels} pixel(s) of {inl.channels} channel(s)" if len(inl.shape) == 3 else f"{inl.pixels} element(s)"
    title = "AXI4-Stream" if interface == Interface.AXIS else "stream"
    inner = (f"{name}.in_skid, {name}.out_skid, {name}.flags, {name}.core and {name}.core.<stage>..."
             if interface == Interface.AXIS else f"{name}.<stage>...")
    latency = top_latency(plan, interface)
    lines = [f"{name}: binarized neural network dataflow core, generated by bitfold", "",
             f"ports ({title}):", *(f"  {p:<22} {d:<4} {text}" for p, d, text in _ports(plan, interface))]
    if interface == Interface.AXIS:
        n = inl.beats
        lines += ["", f"framing: an image is {n} beat(s). A tlast before beat {n}: the missing beats are fed as zeros.",
                  f"  No tlast on beat {n}: the beats up to the next tlast are dropped. Either way the result's",
                  "  error flag is set and the next image starts aligned; exactly one result leaves per image."]
    lines += [
        "",
        f"input  : an image of shape {list(inl.shape)}, {kind}; {inl.beats} beat(s) of "
        f"{inl.beat_bits} bits, {per} each,",
        f"  in raster order: element c of pixel j of a beat at bits [(j*{inl.channels} + c)*{inl.element_bits} +: "
        f"{inl.element_bits}]; beat 0 first",
        f"output : {outl.beat_bits} bits per image: the class in [{outl.class_bits - 1}:0], then {outl.classes} "
        f"scores of {outl.score_width} bits",
        f"  (two's complement), score c at [{outl.class_bits} + c*{outl.score_width} +: {outl.score_width}]",
        "",
        f"timing : {plan.cycles_per_image} cycles per image in steady state (bottleneck {plan.bottleneck}), "
        f"about {latency} cycles of latency",
        f"modules: {name}, {inner}; layers {', '.join(layer.name for layer in plan.layers)}",
    ]
    return "".join(f"// {line}".rstrip() + "\n" for line in lines) + "\n"


def _layer_entry(layer) -> dict:
    entry = {"name": layer.name, "op": layer.op, "stages": [s.name for s in layer.stages], "latency": layer.latency}
    unit, node = layer.unit, layer.source
    if isinstance(unit, MVTUPlan | MSTPlan | JetPlan):
        if isinstance(unit, MVTUPlan):
            fold = {"pe": unit.pe, "simd": unit.simd, "weight_mode": str(unit.mode), "in_bits": unit.in_bits,
                    "acc_bits": unit.acc_bits, "weight_memory": {"depth": unit.depth, "width": unit.pe * unit.simd}
                    if unit.mode == WeightMode.MEMORY else None}
        elif isinstance(unit, MSTPlan):
            fold = {"pe": unit.o, "simd": unit.k, "weight_mode": "constant", "in_bits": 0,
                    "acc_bits": unit.k.bit_length(), "weight_memory": None}
        else:
            fold = {"pe": unit.pe, "simd": node.fan_in, "weight_mode": "constant", "in_bits": unit.in_bits,
                    "acc_bits": unit.acc_bits, "weight_memory": None}
        entry.update({"shape": [int(node.weights.shape[0]), node.fan_in], "vectors": node.vectors, **fold})
        if getattr(node, "schedule", None) is not None:
            w = node.weights.reshape(len(node.weights), -1)
            s = node.schedule
            entry["mst"] = {"depth": s.max_depth, "depth_bound": s.depth_bound, "xnors_per_position": s.cost(w),
                            "plain_xnors_per_position": int(w.size), "compression": round(s.compression(w), 3),
                            "built": isinstance(unit, MSTPlan)}
    if layer.note:
        entry["note"] = layer.note
    entry["cycles_per_image"] = layer.cycles_per_image
    entry.update({"register_bits": layer.register_bits, "memory_bits": layer.memory_bits})
    return entry


def manifest(plan: Plan, name: str, interface: Interface = Interface.STREAM) -> dict:
    """``ports`` describes the stream core's beats (``i``, ``o``); with the AXI4-Stream interface
    ``axis`` gives the TDATA widths and the error bit around them."""
    inl, outl = plan.input, plan.output
    interface = Interface(interface)
    return {
        "top": name,
        "interface": str(interface),
        "ports": {
            "i": {"payload": inl.beat_bits, "valid": 1, "ready": 1, "layout": inl.to_dict()},
            "o": {"payload": outl.beat_bits, "valid": 1, "ready": 1, "layout": outl.to_dict()},
        },
        "port_names": port_names(interface),
        "axis": axis_plan(plan).to_dict() if interface == Interface.AXIS else None,
        "layers": [_layer_entry(layer) for layer in plan.layers],
        "cycles_per_image": plan.cycles_per_image,
        "input_cycles_per_image": inl.beats,
        "latency_cycles": top_latency(plan, interface),
        "bottleneck": plan.bottleneck,
        "queues": str(plan.queues),
        "popcount": plan.popcount.to_dict(),
    }


def plan_of(graph, man: dict) -> Plan:
    """The plan a manifest was written from: its folded IR ``graph`` planned with the manifest's
    queue kind and popcount (a manifest without them predates them: sized queues, adder trees)."""
    pc = man.get("popcount", {"style": "tree", "family": "xc7"})
    return plan_graph(graph, QueueKind(man.get("queues", "sized")), Popcount(pc["style"], pc["family"]))


def fusesoc_core(name: str, verilog_file: str, waivers: str, version: str = "0", description: str = "") -> str:
    """A FuseSoC (CAPI2) core file for the emitted Verilog and its Verilator waivers: VLNV
    ``bitfold:bnn:<name>:<version>``, one fileset, a ``default`` target whose top level is ``name``,
    a ``lint`` target (Verilator, ``-Wall``)."""
    text = description.replace('"', "'")
    return f"""CAPI=2:
# Generated by bitfold: add this folder to FuseSoC's cores root (fusesoc library add NAME PATH,
# or --cores-root PATH) and depend on bitfold:bnn:{name}.
name: bitfold:bnn:{name}:{version}
description: "{text}"

filesets:
  rtl:
    files:
      - {verilog_file}
      - {waivers}: {{file_type: vlt}}
    file_type: verilogSource

targets:
  default:
    filesets: [rtl]
    toplevel: {name}
  lint:
    default_tool: verilator
    filesets: [rtl]
    toplevel: {name}
    tools:
      verilator:
        mode: lint-only
        verilator_options: [-Wall]
"""


def write_design(plan: Plan, rtl_dir, name: str = "bitfold_top", interface: Interface = Interface.STREAM,
                 version: str = "0", cache: bool = True) -> dict:
    """Write ``<rtl_dir>/<name>.v``, its Verilator waivers ``<name>.vlt``, a FuseSoC core file
    ``<name>.core`` (core version ``version``), a file list ``files.f`` and ``manifest.json``;
    returns the manifest (``emit_s``: the time the Verilog took, ``emit_cached``: whether it was
    read from the Verilog cache, see :func:`emit_verilog`)."""
    rtl_dir = Path(rtl_dir)
    t0 = time.perf_counter()
    text, cached = _emit(plan, name, interface, cache)
    man = manifest(plan, name, interface)
    man["verilog"] = f"{name}.v"
    man["verilog_bytes"] = len(text)
    man["emit_s"] = round(time.perf_counter() - t0, 2)
    man["emit_cached"] = cached
    man["fusesoc_core"] = f"{name}.core"
    man["file_list"] = "files.f"
    man["lint_waivers"] = f"{name}.vlt"
    what = (f"{'AXI4-Stream' if interface == Interface.AXIS else 'stream'} BNN core, {plan.cycles_per_image} cycles "
            f"per image")
    atomic_write_text(rtl_dir / f"{name}.v", text)
    atomic_write_text(rtl_dir / f"{name}.core", fusesoc_core(name, f"{name}.v", f"{name}.vlt", version, what))
    atomic_write_text(rtl_dir / "files.f", f"{name}.v\n")
    atomic_write_text(rtl_dir / f"{name}.vlt", waiver_file(f"{name}.v"))
    atomic_write_json(rtl_dir / "manifest.json", man)
    return man
