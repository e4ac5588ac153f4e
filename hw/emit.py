"""Emission: a compiled design -> files. Verilog through ``amaranth.back.verilog`` (of the
components built from the plan) and a JSON manifest of the ports, stream layouts, folding, timing
and storage, all read from the plan."""

import time
from pathlib import Path

from .io import atomic_write_json, atomic_write_text
from .ir.graph import WeightMode
from .plan import JetPlan, MSTPlan, MVTUPlan, Plan, Popcount, QueueKind, plan_graph

__all__ = ["emit_verilog", "manifest", "write_design", "plan_of"]


def emit_verilog(plan: Plan, name: str) -> str:
    from amaranth.back import verilog

    from .rtl.build import dataflow

    return verilog.convert(dataflow(plan), name=name, emit_src=False)


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


def manifest(plan: Plan, name: str) -> dict:
    inl, outl = plan.input, plan.output
    return {
        "top": name,
        "ports": {
            "clk": "clock, rising edge", "rst": "synchronous reset, active high",
            "i": {"payload": inl.beat_bits, "valid": 1, "ready": 1, "layout": inl.to_dict()},
            "o": {"payload": outl.beat_bits, "valid": 1, "ready": 1, "layout": outl.to_dict()},
        },
        "stream_names": {"i": ["i__payload", "i__valid", "i__ready"], "o": ["o__payload", "o__valid", "o__ready"]},
        "layers": [_layer_entry(layer) for layer in plan.layers],
        "cycles_per_image": plan.cycles_per_image,
        "input_cycles_per_image": inl.beats,
        "latency_cycles": plan.latency,
        "bottleneck": plan.bottleneck,
        "queues": str(plan.queues),
        "popcount": plan.popcount.to_dict(),
    }


def plan_of(graph, man: dict) -> Plan:
    """The plan a manifest was written from: its folded IR ``graph`` planned with the manifest's
    queue kind and popcount (a manifest without them predates them: sized queues, adder trees)."""
    pc = man.get("popcount", {"style": "tree", "family": "xc7"})
    return plan_graph(graph, QueueKind(man.get("queues", "sized")), Popcount(pc["style"], pc["family"]))


def write_design(plan: Plan, rtl_dir, name: str = "bitfold_top") -> dict:
    """Write ``<rtl_dir>/<name>.v`` and ``manifest.json``; returns the manifest."""
    rtl_dir = Path(rtl_dir)
    t0 = time.perf_counter()
    text = emit_verilog(plan, name)
    man = manifest(plan, name)
    man["verilog"] = f"{name}.v"
    man["verilog_bytes"] = len(text)
    man["emit_s"] = round(time.perf_counter() - t0, 2)
    atomic_write_text(rtl_dir / f"{name}.v", text)
    atomic_write_json(rtl_dir / "manifest.json", man)
    return man
