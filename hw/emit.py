"""Emission: components -> files. Verilog through ``amaranth.back.verilog`` and a JSON manifest
describing the ports, stream layouts, folding and timing of the design."""

import time
from pathlib import Path

from .analysis import cycles_per_image, latency, layer_cycles, storage
from .io import atomic_write_json, atomic_write_text
from .ir.graph import Conv, Dense, JetConv
from .layout import input_layout, output_layout

__all__ = ["emit_verilog", "manifest", "write_design"]


def emit_verilog(top, name: str) -> str:
    from amaranth.back import verilog

    return verilog.convert(top, name=name, emit_src=False)


def manifest(graph, lowered, name: str) -> dict:
    inl, outl = input_layout(graph), output_layout(graph)
    per_layer = layer_cycles(graph)
    bits = storage(lowered)
    layers = []
    for info in lowered.layers:
        node = graph[info["name"]] if info["name"] != "argmax" else None
        entry = dict(info)
        if isinstance(node, Dense | Conv | JetConv):
            f = node.folding
            entry.update({
                "shape": [int(node.weights.shape[0]), node.fan_in], "vectors": node.vectors,
                "pe": f.pe, "simd": f.simd, "weight_mode": f.mode, "in_bits": f.in_bits, "acc_bits": f.acc_bits,
                "weight_memory": {"depth": f.mem_depth, "width": f.mem_width} if f.mode == "memory" else None,
            })
            if getattr(node, "schedule", None) is not None:
                w = node.weights.reshape(len(node.weights), -1)
                entry["mst"] = {"depth": node.schedule.max_depth, "depth_bound": node.schedule.depth_bound,
                                "xnors_per_position": node.schedule.cost(w), "plain_xnors_per_position": int(w.size),
                                "compression": round(node.schedule.compression(w), 3), "built": "note" not in info}
        entry["cycles_per_image"] = per_layer.get(info["name"], 1)
        entry.update(bits[info["name"]])
        layers.append(entry)
    return {
        "top": name,
        "ports": {
            "clk": "clock, rising edge", "rst": "synchronous reset, active high",
            "i": {"payload": inl.beat_bits, "valid": 1, "ready": 1, "layout": inl.to_dict()},
            "o": {"payload": outl.beat_bits, "valid": 1, "ready": 1, "layout": outl.to_dict()},
        },
        "stream_names": {"i": ["i__payload", "i__valid", "i__ready"], "o": ["o__payload", "o__valid", "o__ready"]},
        "layers": layers,
        "cycles_per_image": cycles_per_image(graph),
        "input_cycles_per_image": inl.beats,
        "latency_cycles": latency(graph, lowered.fifo),
        "bottleneck": max(per_layer, key=per_layer.get),
    }


def write_design(graph, lowered, rtl_dir, name: str = "bitfold_top") -> dict:
    """Write ``<rtl_dir>/<name>.v`` and ``manifest.json``; returns the manifest."""
    rtl_dir = Path(rtl_dir)
    t0 = time.perf_counter()
    text = emit_verilog(lowered.top, name)
    man = manifest(graph, lowered, name)
    man["verilog"] = f"{name}.v"
    man["verilog_bytes"] = len(text)
    man["emit_s"] = round(time.perf_counter() - t0, 2)
    atomic_write_text(rtl_dir / f"{name}.v", text)
    atomic_write_json(rtl_dir / "manifest.json", man)
    return man
