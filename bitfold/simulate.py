"""``bitfold sim``: the test split through the Verilated RTL, compared with the IR reference.

The emitted ``rtl/<top>.v`` is instantiated by :class:`sim.harness.NetworkHarness` and built by
Verilator (cached under ``RUN/sim/``); cocotb streams the images (see ``sim/benches/network.py``).
"""

import time

import numpy as np

from hw.errors import BitfoldError
from hw.io import atomic_write_json, atomic_write_text
from hw.ir import interp
from hw.ir.graph import Graph
from hw.plan import QueueKind, plan_graph

from .check import inputs_for
from .runs import open_run

__all__ = ["sim_run", "hardware_graph", "hardware_plan", "BURST"]

BURST = 16  # images streamed back to back to measure the steady-state cycles per image


def hardware_graph(run):
    """The folded IR the RTL was compiled from, and the manifest."""
    import json

    man_path = run.file("rtl/manifest.json")
    ir_path = run.file("rtl/ir.hw.json")
    if not man_path.exists() or not ir_path.exists():
        raise BitfoldError(f"{run.path}: no compiled RTL (rtl/manifest.json); run `bitfold compile {run.path}` first")
    return Graph.from_json(ir_path.read_text()), json.loads(man_path.read_text())


def hardware_plan(run):
    """The folded IR, its hardware plan and the manifest of a compiled run."""
    graph, man = hardware_graph(run)
    return graph, plan_graph(graph, QueueKind(man.get("queues", "sized"))), man


def sim_run(path, images=None, random=None, waves=False, progress=True) -> dict:
    from sim import runner
    from sim.harness import NetworkHarness

    run = open_run(path)
    graph, plan, man = hardware_plan(run)
    top = man["top"]
    x, labels = inputs_for(run, graph, images, random)
    codes = interp.quantize(graph.nodes[0], x)
    ref = interp.run(graph, codes, from_codes=True)
    ref_class = interp.argmax(ref)
    inl, outl = plan.input, plan.output

    sim_dir = run.file("sim")
    harness = NetworkHarness(top, inl.beats, inl.beat_bits, outl.beat_bits)
    harness_v = sim_dir / "harness.v"
    text = harness.verilog()
    if not harness_v.exists() or harness_v.read_text() != text:
        atomic_write_text(harness_v, text)
    design = sim_dir / "design.v"  # one file for the build cache key: harness + the emitted RTL
    both = text + "\n" + run.file(f"rtl/{man['verilog']}").read_text()
    if not design.exists() or design.read_text() != both:
        atomic_write_text(design, both)

    t0 = time.perf_counter()
    build_dir = runner.build(design, "bitfold_harness", sim_dir / "cache", waves=waves)
    build_s = time.perf_counter() - t0

    n = len(codes)
    burst = min(BURST, n)
    packed = np.array([np.frombuffer(v.to_bytes((inl.image_bits + 7) // 8, "little"), dtype=np.uint8)
                       for v in inl.images(codes)])
    stim, out = sim_dir / "stimulus.npz", sim_dir / "result.npz"
    np.savez(stim, images=packed, burst=burst, out_bits=outl.beat_bits)
    out.unlink(missing_ok=True)
    t0 = time.perf_counter()
    runner.run(build_dir, "bitfold_harness", "network", sim_dir / "test",
               {"BITFOLD_BENCH_IN": stim.resolve(), "BITFOLD_BENCH_OUT": out.resolve()},
               waves_file=(sim_dir / "waves.fst").resolve() if waves else None)
    sim_s = time.perf_counter() - t0
    if not out.exists():
        raise BitfoldError(f"the network bench wrote no results; see {sim_dir / 'test' / 'network.log'}")
    res = np.load(out)
    beats = [int.from_bytes(r.tobytes(), "little") for r in res["beats"]]
    decoded = [outl.decode(b) for b in beats]
    expect = [0] + list(range(burst)) + list(range(n))  # image index of every result, phase by phase
    bad = []
    for j, (cls, scores) in enumerate(decoded):
        img = expect[j]
        if cls != ref_class[img] or scores != ref[img].tolist():
            bad.append((j, img, cls, scores))
    stress_classes = np.array([c for c, _ in decoded[1 + burst:]])
    cycles = res["cycles"][1:1 + burst]
    diffs = np.diff(cycles)
    steady = diffs[len(diffs) // 2:] if len(diffs) else np.array([0])
    result = {
        "run": str(run.path),
        "images": n,
        "inputs": "random" if labels is None else run.dataset,
        "mismatches": len({img for _, img, _, _ in bad}),
        "rtl_accuracy": None if labels is None else float((stress_classes == labels).mean()),
        "reference_accuracy": None if labels is None else float((ref_class == labels).mean()),
        "cycles_per_image": float(steady.mean()),
        "cycles_per_image_analytic": man["cycles_per_image"],
        "latency_cycles": int(res["latency"]),
        "build_s": round(build_s, 1),
        "sim_s": round(sim_s, 1),
        "images_per_s": round(n / sim_s, 1) if sim_s else None,
        "stress": "random input gaps and output back-pressure, p = 1/4 each",
    }
    if bad:
        j, img, cls, scores = bad[0]
        result["first_mismatch"] = {"image": int(img), "rtl_class": int(cls), "reference_class": int(ref_class[img]),
                                    "rtl_scores": scores, "reference_scores": ref[img].tolist()}
        from sim.localize import localize

        result["first_mismatch"].update(localize(graph, codes[img], queues=plan.queues))
    if waves:
        result["waves"] = str(sim_dir / "waves.fst")
    atomic_write_json(sim_dir / "sim.json", result)
    return result
