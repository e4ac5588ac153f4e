"""``bitfold sim``: the test split through the Verilated RTL, compared with the IR reference.

The emitted ``rtl/<top>.v`` is instantiated by :class:`sim.harness.NetworkHarness` and built by
Verilator (cached under ``RUN/sim/cache/``, one build per design, built once when two simulations
want it at the same time); cocotb streams the images (see ``sim/benches/network.py``). Each
invocation works in a folder of its own (``RUN/sim/work-<pid>-*``), so simulations of one run at
the same time do not collide; ``sim/sim.json`` (and ``sim/waves.fst``) are renamed in complete.
"""

import os
import shutil
import time
from pathlib import Path

import numpy as np

from hw import io as hwio
from hw.emit import plan_of
from hw.errors import BitfoldError
from hw.io import atomic_write_json, file_lock, temp_dir
from hw.ir import interp

from .check import inputs_for
from .provenance import stamp, tool_versions
from .runs import compiled, open_run

__all__ = ["sim_run", "hardware_graph", "hardware_plan", "BURST"]

BURST = 16  # images streamed back to back to measure the steady-state cycles per image


def hardware_graph(run):
    """The folded IR the RTL was compiled from, and the manifest (both checked against each
    other and against the current ``ir.json``: see :func:`bitfold.runs.compiled`)."""
    with file_lock(run.path, shared=True):
        c = compiled(run)
    return c.graph, c.manifest


def hardware_plan(run):
    """The folded IR, its hardware plan and the manifest of a compiled run."""
    graph, man = hardware_graph(run)
    return graph, plan_of(graph, man), man


def _clear_dead_work_folders(sim_dir: Path):
    """Work folders of simulations whose process is gone (killed outright)."""
    for w in sim_dir.glob("work-*"):
        try:
            pid = int(w.name.split("-")[1])
            os.kill(pid, 0)
        except ProcessLookupError:
            shutil.rmtree(w, ignore_errors=True)
        except (ValueError, IndexError, PermissionError):
            continue


def sim_run(path, images=None, random=None, waves=False, progress=True) -> dict:
    from sim import runner
    from sim.harness import NetworkHarness

    run = open_run(path)
    with file_lock(run.path, shared=True):
        comp = compiled(run)
    graph, man = comp.graph, comp.manifest
    plan = plan_of(graph, man)
    top = man["top"]
    x, labels = inputs_for(run, graph, images, random)
    codes = interp.quantize(graph.nodes[0], x)
    ref = interp.run(graph, codes, from_codes=True)
    ref_class = interp.argmax(ref)
    inl, outl = plan.input, plan.output

    sim_dir = run.file("sim")
    sim_dir.mkdir(exist_ok=True)
    _clear_dead_work_folders(sim_dir)
    work = temp_dir(sim_dir, f"work-{os.getpid()}-")
    keep_work = False
    try:
        axis = man.get("axis")  # the AXI4-Stream top: padded TDATA, an error bit above the result
        out_bits = axis["m_tdata_bits"] if axis else outl.beat_bits
        harness = NetworkHarness(top, inl.beats, inl.beat_bits, out_bits, man.get("interface", "stream"),
                                 axis["s_tdata_bits"] if axis else None)
        design = work / "design.v"  # one file for the build cache key: harness + the emitted RTL
        design.write_text(harness.verilog() + "\n" + comp.verilog)

        t0 = time.perf_counter()
        n = len(codes)
        cycles = n * man["cycles_per_image"] + man["latency_cycles"]
        build_dir = runner.build(design, "bitfold_harness", sim_dir / "cache", waves=waves, cycles=cycles)
        build_s = time.perf_counter() - t0

        burst = min(BURST, n)
        packed = np.array([np.frombuffer(v.to_bytes((inl.image_bits + 7) // 8, "little"), dtype=np.uint8)
                           for v in inl.images(codes)])
        stim, out = work / "stimulus.npz", work / "result.npz"
        np.savez(stim, images=packed, burst=burst, out_bits=out_bits)
        t0 = time.perf_counter()
        wave_file = work / "waves.fst" if waves else None
        try:
            runner.run(build_dir, "bitfold_harness", "network", work / "test",
                       {"BITFOLD_BENCH_IN": stim.resolve(), "BITFOLD_BENCH_OUT": out.resolve()},
                       waves_file=wave_file.resolve() if waves else None)
        except BitfoldError:
            keep_work = True  # the message points at the log inside it
            raise
        sim_s = time.perf_counter() - t0
        if not out.exists():
            keep_work = True
            raise BitfoldError(f"the network bench wrote no results; see {work / 'test' / 'network.log'}")
        res = np.load(out)
        result = _compare(run, res, outl, ref, ref_class, labels, n, burst, man, build_s, sim_s)
        if result.get("first_mismatch"):
            from sim.localize import localize

            img = result["first_mismatch"]["image"]
            result["first_mismatch"].update(localize(graph, codes[img], queues=plan.queues, popcount=plan.popcount))
        if waves:  # a debugging aid beside the result, not part of it: not in its provenance
            result["waves"] = str(sim_dir / "waves.fst")
            hwio.commit(wave_file, sim_dir / "waves.fst")
        options = {"images": images, "random": random, "waves": waves}
        cmd = f"bitfold sim {run.path}" + "".join(f" --{k} {v}" for k, v in (("images", images), ("random", random))
                                                  if v is not None) + (" --waves" if waves else "")
        result = stamp(result, "sim", command=cmd, inputs=comp.inputs, options=options,
                       tools=tool_versions("verilator", "cocotb"))
        atomic_write_json(sim_dir / "sim.json", result)
    finally:
        if not keep_work:
            shutil.rmtree(work, ignore_errors=True)
    return result


def _compare(run, res, outl, ref, ref_class, labels, n, burst, man, build_s, sim_s) -> dict:
    """The bench's result beats against the reference: mismatches, accuracy, cycles."""
    words = [int.from_bytes(r.tobytes(), "little") for r in res["beats"]]
    beats = [w & ((1 << outl.beat_bits) - 1) for w in words]
    above = [w >> outl.beat_bits for w in words]  # AXI4-Stream: the error bit and the padding, all 0
    decoded = [outl.decode(b) for b in beats]
    expect = [0] + list(range(burst)) + list(range(n))  # image index of every result, phase by phase
    bad = []
    for j, (cls, scores) in enumerate(decoded):
        img = expect[j]
        if cls != ref_class[img] or scores != ref[img].tolist() or above[j]:
            bad.append((j, img, cls, scores))
    stress_classes = np.array([c for c, _ in decoded[1 + burst:]])
    cycles = res["cycles"][1:1 + burst]
    diffs = np.diff(cycles)
    steady = diffs[len(diffs) // 2:] if len(diffs) else np.array([0])
    result = {
        "run": str(run.path),
        "images": n,
        "inputs": "random" if labels is None else run.dataset,
        "interface": man.get("interface", "stream"),
        "mismatches": len({img for _, img, _, _ in bad}),
        "error_flags": sum(1 for a in above if a),
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
    return result
