"""Benchmarks (``bitfold bench NAME --json``, ``make bench``): measured figures as JSON.

``compile``: see :func:`bench_compile`.

``reference``: images/s of the bit-packed IR reference against the torch forward pass of the same
``sfc`` model on the whole MNIST test split, in one process with each library's default threads;
the best of several repetitions.
"""

import dataclasses
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from hw.errors import BitfoldError

__all__ = ["BENCHES", "run"]


def _best_of(fn, repeat=5):
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def bench_reference(run=None) -> dict:
    import torch

    from hw.ir import interp

    from .check import inputs_for
    from .flow import load_torch_model, train_run
    from .runs import open_run

    with tempfile.TemporaryDirectory() as tmp:
        if run is None:  # speed does not depend on training quality: one epoch is enough
            run = Path(tmp) / "sfc"
            train_run("sfc", run, dataset="mnist", epochs=1, progress=False)
        r = open_run(run)
        if not r.has_torch:
            raise BitfoldError(f"{r.path}: the reference benchmark needs a trained run (with model.pt)")
        graph = r.graph()
        model = load_torch_model(r)
        x, _ = inputs_for(r, graph)
        xt = torch.from_numpy(x)
        ref_classes = interp.classify(graph, x)
        with torch.no_grad():
            torch_classes = model(xt).argmax(1).numpy()
        with torch.no_grad():
            t_torch = _best_of(lambda: model(xt))
        t_ref = _best_of(lambda: interp.run(graph, x))
        model_name = r.config["model"]
    n = len(x)
    return {
        "bench": "reference",
        "model": model_name,
        "images": n,
        "reference_images_per_s": round(n / t_ref, 1),
        "torch_images_per_s": round(n / t_torch, 1),
        "speedup": round(t_torch / t_ref, 3),
        "classes_equal": bool(np.array_equal(ref_classes, torch_classes)),
        "torch_threads": torch.get_num_threads(),
        "cpus": os.cpu_count(),
    }


def _fully_parallel_ii() -> int:
    """Cycles between results of a fully parallel MVTU fed back to back (Amaranth simulator)."""
    from hw.plan import MVTUPlan, ThresholdOut
    from hw.rtl.mvtu import MVTU
    from sim.amaranth_run import run_stream

    rng = np.random.default_rng(0)
    w = rng.integers(0, 2, (16, 64), dtype=np.uint8)
    dut = MVTU(MVTUPlan("mvtu", w, 16, 64, ThresholdOut(np.full(16, 32), np.ones(16)), mode="constant"))
    beats = [int(v) for v in rng.integers(0, 2**63, 40)]
    cycles = []
    run_stream(dut, beats, len(beats), cycles=cycles)
    return int(np.max(np.diff(cycles)))


def bench_compile(run=None) -> dict:
    """Measured cycles per image against the analytic model, RTL simulation throughput and build
    time for ``tfc`` and ``cnv-mnist`` (one training epoch each: hardware speed does not depend on
    accuracy), over the whole MNIST test split; and the initiation interval of a fully parallel
    layer."""
    from .compile import compile_run
    from .flow import train_run
    from .simulate import sim_run

    out = {"bench": "compile", "nets": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for model, target in (("tfc", 1000), ("cnv-mnist", 2000)):
            path = Path(tmp) / model
            train_run(model, path, epochs=1, progress=False)
            t0 = time.perf_counter()
            comp = compile_run(path, target_cycles=target, cache=False)
            compile_s = time.perf_counter() - t0
            r = sim_run(path, progress=False)
            measured, analytic = r["cycles_per_image"], r["cycles_per_image_analytic"]
            out["nets"][model] = {
                "target_cycles": target, "cycles_per_image": measured, "cycles_per_image_analytic": analytic,
                "cycles_error_pct": round(100 * abs(measured - analytic) / analytic, 3),
                "latency_cycles": r["latency_cycles"], "latency_cycles_analytic": comp["latency_cycles"],
                "images": r["images"], "mismatches": r["mismatches"], "compile_s": round(compile_s, 1),
                "verilator_build_s": r["build_s"], "sim_s": r["sim_s"], "rtl_images_per_s": r["images_per_s"],
            }
        out["finn_cnv"] = _finn_cnv(Path(tmp))
    out["fully_parallel_ii"] = _fully_parallel_ii()
    out["cycles_within_1pct"] = all(n["cycles_error_pct"] <= 1.0 for n in out["nets"].values())
    out["latency_within_1pct"] = all(abs(n["latency_cycles"] - n["latency_cycles_analytic"])
                                     <= 0.01 * n["latency_cycles_analytic"] for n in out["nets"].values())
    return out


def _finn_cnv(tmp, images=64) -> dict:
    """A FINN-CNV-class net (:mod:`bitfold.finn_cnv`) through import, compile at the default design
    point, Verilator build and simulation of ``images`` random images: the time of each step."""
    from hw.estimate import estimate

    from .compile import compile_run
    from .finn_cnv import export_finn_cnv
    from .flow import import_run
    from .simulate import hardware_plan, sim_run

    t0 = time.perf_counter()
    export_finn_cnv(tmp / "finn-cnv.onnx")
    import_run(tmp / "finn-cnv.onnx", tmp / "finn-cnv")
    t1 = time.perf_counter()
    comp = compile_run(tmp / "finn-cnv", cache=False)
    t2 = time.perf_counter()
    r = sim_run(tmp / "finn-cnv", random=images, progress=False)
    total = time.perf_counter() - t0
    from .runs import open_run

    _, plan, _ = hardware_plan(open_run(tmp / "finn-cnv"))
    return {"images": images, "mismatches": r["mismatches"], "cycles_per_image": r["cycles_per_image"],
            "cycles_per_image_analytic": r["cycles_per_image_analytic"],
            "estimate_xc7": estimate(plan, "xc7")["total"], "verilog_mb": round(comp["verilog_bytes"] / 1e6, 2),
            "import_s": round(t1 - t0, 1), "compile_s": round(t2 - t1, 1), "verilator_build_s": r["build_s"],
            "sim_s": r["sim_s"], "total_s": round(total, 1), "under_5_min": total < 300}


def bench_estimator(run=None) -> dict:
    """The estimator against Yosys over the regression set (hw/synth/regression.py) on every
    calibrated family: LUT errors of scored designs (100 LUTs or more), rank correlation, exact BRAM,
    and the
    time of an estimate against the time of a synthesis. Also the leave-one-out errors: the error
    on each design of constants fitted without it (how the estimator does on designs it has not
    seen)."""
    from hw.estimate import estimate_units, load_calibration
    from hw.estimate.fit import design_features, evaluate, fit
    from hw.synth.dataset import collect
    from hw.synth.regression import build

    from .resources import synth_cache

    cal = load_calibration()
    per_family, rows_all, preds_all, est_ms, loo = {}, [], [], [], []
    from hw.synth import FAMILIES

    for fam in [f for f in FAMILIES if f in cal["families"]]:
        rows = collect(fam, synth_cache(), progress=True, jobs=0)
        units = {r["name"]: [s.unit for s in build(r["name"], fam)[1]] for r in rows}
        preds = []
        for r in rows:
            t0 = time.perf_counter()
            preds.append(estimate_units(units[r["name"]], fam, cal))
            est_ms.append((time.perf_counter() - t0) * 1e3)
        per_family[fam] = evaluate(rows, preds)
        rows_all += rows
        preds_all += preds
        feats = {r["name"]: design_features(units[r["name"]], fam, cal.get("tables")) for r in rows}
        for i, r in enumerate(rows):
            if r["lut"] < 100:
                continue
            coef = fit(rows[:i] + rows[i + 1:], feats)
            p = estimate_units(units[r["name"]], fam, {"families": {fam: {"lut": coef}}, "tables": cal.get("tables")})
            loo.append(abs(100.0 * (p["lut"] - r["lut"]) / r["lut"]))
    out = {"bench": "estimator", **evaluate(rows_all, preds_all),
           "est_ms_median": round(float(np.median(est_ms)), 3),
           "synth_s_median": round(float(np.median([r["seconds"] for r in rows_all])), 2),
           "loo_median_abs_err_pct": round(float(np.median(loo)), 2),
           "loo_max_abs_err_pct": round(float(np.max(loo)), 2),
           "families": per_family, "yosys": rows_all[0]["yosys"]}
    return out


def first_layer_folding(graph, target):
    """Auto folding for ``target`` cycles per image with the first layer fully parallel (one window
    per cycle, hard-wired): how the jet and standard first layers are compared."""
    from hw.passes import to_hwc
    from hw.passes.fold import layer_names, unroll
    from hw.plan import auto_folding

    first = layer_names(graph)[0]
    return unroll(auto_folding(to_hwc(graph), target), graph, [first]), first


def bench_jet(run=None, epochs=10, seed=0, target=2000) -> dict:
    """``jet-mnist`` against ``cnv-mnist`` trained with the same seed and epochs: test accuracy,
    synthesized LUT/FF of the first layer and of the whole net on xc7 and ECP5 at the same cycles per
    image (first layer fully parallel in both, the rest folded alike), additions per image."""
    from hw.analysis import binary_ops

    from .compile import compile_run
    from .flow import train_run
    from .resources import synth_run
    from .runs import open_run
    from .simulate import hardware_plan

    out = {"bench": "jet", "epochs": epochs, "seed": seed, "target_cycles": target}
    res = {}
    with tempfile.TemporaryDirectory() as tmp:
        for model, key in (("jet-mnist", "jet"), ("cnv-mnist", "baseline")):
            path = Path(tmp) / model
            summary = train_run(model, path, epochs=epochs, seed=seed, progress=False)
            folding, first = first_layer_folding(open_run(path).graph(), target)
            compile_run(path, fold=folding)
            graph, plan, _ = hardware_plan(open_run(path))
            entry = {"accuracy": summary["test_accuracy"], "first_layer": first,
                     "cycles_per_image": plan.cycles_per_image,
                     "first_layer_additions_per_image": binary_ops(graph)[first],
                     "additions_per_image": int(sum(binary_ops(graph).values()))}
            for fam in ("xc7", "ecp5"):
                syn = synth_run(path, fam, progress=False)
                layer = syn["layers"][first]
                entry[fam] = {"first_layer_lut": layer["lut"], "first_layer_ff": layer["ff"],
                              "total_lut": syn["total"]["lut"], "total_ff": syn["total"]["ff"]}
            res[key] = entry
    jet, base = res["jet"], res["baseline"]
    out.update({
        "accuracy_jet": jet["accuracy"], "accuracy_baseline": base["accuracy"],
        "first_layer_luts_jet": {f: jet[f]["first_layer_lut"] for f in ("xc7", "ecp5")},
        "first_layer_luts_baseline": {f: base[f]["first_layer_lut"] for f in ("xc7", "ecp5")},
        "lut_saving_pct": {f: round(100 * (1 - jet[f]["first_layer_lut"] / base[f]["first_layer_lut"]), 1)
                           for f in ("xc7", "ecp5")},
        "total_lut_saving_pct": {f: round(100 * (1 - jet[f]["total_lut"] / base[f]["total_lut"]), 1)
                                 for f in ("xc7", "ecp5")},
        "first_layer_additions_per_image": {"jet": jet["first_layer_additions_per_image"],
                                            "baseline": base["first_layer_additions_per_image"]},
        "cycles_per_image": {"jet": jet["cycles_per_image"], "baseline": base["cycles_per_image"]},
        "detail": res,
    })
    return out


def layer_luts(plan, names, families, cache):
    """Synthesized LUTs of the layers ``names`` of a planned design, each out of context (as
    ``bitfold synth`` does per layer)."""
    from hw.synth import layer_verilog, synthesize

    out = {}
    for layer in plan.layers:
        if layer.name in names:
            top, text = layer_verilog(layer)
            out[layer.name] = {f: synthesize(text, top, f, cache)["lut"] for f in families}
    return out


def lambda_curve(root, lambdas, epochs=None, seed=0, train_images=None) -> list:
    """The MST regularizer's trade-off: ``mst-cnv-mnist`` trained with each weight ``lambda`` (0 is
    the plain ``cnv-mnist``) under ``root`` (on the first ``train_images`` training images if given,
    as :func:`~bitfold.flow.zoo_runs` was asked); per point the test accuracy and the XNOR
    compression of its binary layers with trees within the model's depth bound."""
    from bnn.models import defaults

    from .flow import trained_run
    from .runs import open_run
    from .schema import read_json

    spec = defaults("mst-cnv-mnist")["mst"]
    curve = []
    for lam in lambdas:
        # the plain and the default points are the zoo models themselves (shared with zoo_runs)
        model = "mst-cnv-mnist" if lam else "cnv-mnist"
        name = model if lam in (0, spec["lam"]) else f"{model}-lambda-{lam:g}"
        path = trained_run(model, Path(root) / name, epochs, seed, mst_lambda=lam if lam else None,
                           train_images=train_images)
        run = open_run(path)
        accuracy = read_json(run.file("metrics.json"), "metrics")["test_accuracy"]
        curve.append({"lambda": float(lam), "accuracy": accuracy,
                      "xnor_compression": xnor_compression(run.graph(), spec["depth"])})
    return curve


def xnor_compression(graph, depth=None) -> float:
    """XNORs per image of a graph's binary-input layers computed directly, over the same computed
    along minimum spanning trees within ``depth`` (fresh trees of its weights)."""
    from hw.mst import mst_schedule
    from hw.passes.mst import mst_layers

    direct = cost = 0
    for name in mst_layers(graph):
        node = graph[name]
        w = node.weights.reshape(len(node.weights), -1)
        direct += node.vectors * w.size
        cost += node.vectors * mst_schedule(w, depth).cost(w)
    return round(direct / cost, 3)


def bench_mst(run=None, epochs=10, seed=0, target=2000, lambdas=(0.1, 0.25, 1.0), depths=(1, 2, 4, 8, None)) -> dict:
    """``cnv-mnist`` without the MST regularizer against ``mst-cnv-mnist`` trained with the same seed
    and epochs: accuracy, XNORs per image (direct vs the trained schedules) and the compression per
    layer and in total, the depth of the trees, synthesized LUTs of the convolutions on xc7 and
    ECP5 (the plain hard-wired unit against the MST unit: same weights, same folding, so the same
    cycles per image), and the latency of both designs. Also the lambda -> (accuracy, compression)
    curve of the regularizer and, per layer, the compression each depth bound reaches."""
    from bnn.models import defaults
    from hw.compile import FoldAuto, FoldExplicit, MstOff, compile_graph
    from hw.ir.graph import Conv
    from hw.mst import mst_schedule
    from hw.passes.mst import mst_layers

    from .resources import synth_cache
    from .runs import open_run

    spec = defaults("mst-cnv-mnist")["mst"]
    families = ("xc7", "ecp5")
    out = {"bench": "mst", "epochs": epochs, "seed": seed, "target_cycles": target, "lambda": spec["lam"],
           "depth_bound": spec["depth"]}
    with tempfile.TemporaryDirectory() as tmp:
        curve = lambda_curve(tmp, sorted({0.0, spec["lam"], *lambdas}), epochs, seed)
        g_mst = open_run(Path(tmp) / "mst-cnv-mnist").graph()
    point = {p["lambda"]: p for p in curve}
    plain, mst = point[0.0], point[spec["lam"]]

    layers, direct, scheduled = {}, 0, 0
    for name in mst_layers(g_mst):
        node = g_mst[name]
        w = node.weights.reshape(len(node.weights), -1)
        plain_x, mst_x = node.vectors * w.size, node.vectors * node.schedule.cost(w)
        layers[name] = {"op": node.op, "channels": int(w.shape[0]), "fan_in": int(w.shape[1]),
                        "xnors_per_image_plain": int(plain_x), "xnors_per_image_mst": int(mst_x),
                        "xnor_compression": round(plain_x / mst_x, 3), "depth": node.schedule.max_depth,
                        "compression_by_depth_bound": {str(d): round(w.size / mst_schedule(w, d).cost(w), 3)
                                                       for d in depths}}
        direct, scheduled = direct + plain_x, scheduled + mst_x

    # hardware: the convolutions fully parallel with hard-wired weights, MST unit against plain unit
    mst_hw = compile_graph(g_mst, FoldAuto(target))
    plain_hw = compile_graph(g_mst, FoldExplicit(mst_hw.folding), MstOff())
    convs = [n for n in mst_layers(g_mst) if isinstance(g_mst[n], Conv)]
    luts_mst = layer_luts(mst_hw.plan, convs, families, synth_cache())
    luts_plain = layer_luts(plain_hw.plan, convs, families, synth_cache())
    for name in convs:
        layers[name]["luts_plain"] = luts_plain[name]
        layers[name]["luts_mst"] = luts_mst[name]
    total = {f: (sum(luts_plain[n][f] for n in convs), sum(luts_mst[n][f] for n in convs)) for f in families}
    out.update({
        "accuracy_plain": plain["accuracy"], "accuracy_mst": mst["accuracy"],
        "accuracy_drop_points": round(100 * (plain["accuracy"] - mst["accuracy"]), 2),
        "xnors_per_image": {"plain": int(direct), "mst": int(scheduled)},
        "xnor_compression": round(direct / scheduled, 3),
        "xnor_compression_without_regularizer": plain["xnor_compression"],
        "max_depth": max(v["depth"] for v in layers.values()),
        "conv_luts_plain": {f: total[f][0] for f in families}, "conv_luts_mst": {f: total[f][1] for f in families},
        "lut_saving_pct": {f: round(100 * (1 - total[f][1] / total[f][0]), 1) for f in families},
        "cycles_per_image": {"plain": plain_hw.plan.cycles_per_image, "mst": mst_hw.plan.cycles_per_image},
        "latency_cycles": {"plain": plain_hw.plan.latency, "mst": mst_hw.plan.latency},
        "lambda_curve": curve, "layers": layers,
    })
    return out


ZOO = ("tfc", "sfc", "lfc", "cnv-mnist", "digits-mlp", "jet-mnist", "jet-full-mnist", "mst-cnv-mnist")
FINN_SFC_MAX_LUTS = 91_131  # FINN SFC-max on a ZC706 (Umuroglu et al., FPGA 2017): 784-256-256-256-10
FINN_SFC_MAX_CYCLES = 16
FAST_LUT_BUDGET = 60_000  # the fastest point the bench places and routes: an ECP5-85k holds about this much
THROUGHPUT_POINTS = ("default", "fastest", "finn")  # finn: sfc only


def _hardware_point(base, path, target, images=None, progress=False) -> dict:
    """Compile the trained run ``base`` (a copy at ``path``) for ``target`` cycles per image, simulate
    it on the test split under Verilator, synthesize it for xc7, then compile it again with its
    popcounts scheduled for ECP5 (the same folding and queues; only the compressor trees differ) and
    place and route that on ECP5-85k (router2, seed 1); returns the figures of one design point."""
    import shutil

    from .compile import compile_run
    from .resources import synth_run
    from .simulate import sim_run

    if path.exists():
        shutil.rmtree(path)
    shutil.copytree(base, path, ignore=shutil.ignore_patterns("rtl", "sim", "synth", "report*"))
    comp = compile_run(path, target_cycles=target)
    sim = sim_run(path, images=images, progress=progress)
    entry = {"target_cycles": target, "cycles_per_image": comp["cycles_per_image"],
             "cycles_per_image_measured": sim["cycles_per_image"], "latency_cycles": sim["latency_cycles"],
             "images_simulated": sim["images"], "mismatches": sim["mismatches"],
             "folding": {x["name"]: [x["pe"], x["simd"]] for x in comp["layers"] if x["pe"]}}
    try:
        xc7 = synth_run(path, "xc7", per_layer=False, progress=progress)
    except BitfoldError as e:  # e.g. too large for the WebAssembly Yosys: say so, keep the rest
        entry.update({"luts_xc7": None, "lut_sites_xc7": None, "ffs_xc7": None, "bram_xc7": None,
                      "ff_per_lut_xc7": None, "ff_per_logic_lut_xc7": None, "synth_error": str(e)})
    else:
        t = xc7["total"]
        entry.update({"luts_xc7": t["lut"], "lut_sites_xc7": t["lut_sites"], "ffs_xc7": t["ff"], "bram_xc7": t["bram"],
                      "ff_per_lut_xc7": round(t["ff"] / max(1, t["lut_sites"]), 3),
                      "ff_per_logic_lut_xc7": round(t["ff"] / max(1, t["lut"]), 3)})
    try:
        compile_run(path, target_cycles=target, family="ecp5")
        ecp5 = synth_run(path, "ecp5", pnr=True, device="85k", per_layer=False, progress=progress)
    except BitfoldError as e:  # does not fit, or does not route: say so, keep the rest
        entry.update({"luts_ecp5": None, "fmax_mhz_ecp5": None, "images_per_s": None, "pnr_error": str(e)})
        return entry
    fmax = ecp5["fmax_mhz"]
    entry.update({"luts_ecp5": ecp5["total"]["lut"], "fmax_mhz_ecp5": fmax,
                  "images_per_s": round(fmax * 1e6 / comp["cycles_per_image"]) if fmax else None,
                  "critical_path": ecp5["pnr"].get("critical_path")})
    return entry


def _point_target(graph, point) -> int:
    """The cycles per image a throughput design point aims at."""
    from hw.compile import default_target

    if point == "finn":
        return FINN_SFC_MAX_CYCLES
    return default_target(graph, FAST_LUT_BUDGET) if point == "fastest" else default_target(graph)


def bench_throughput(run=None, models=ZOO, epochs=1, root="build/bench-throughput", images=None,
                     points=THROUGHPUT_POINTS) -> dict:
    """Each zoo model at its default folding (the design point plain ``--fold auto`` picks) and at
    its fastest folding the bench places and routes (the fastest whose estimate fits
    ``FAST_LUT_BUDGET`` LUTs): cycles per image (analytic and measured under Verilator, bit-exact on
    the test split), xc7 LUT/FF/BRAM (Yosys, out of context; ``lut_sites_xc7`` adds the LUTs that
    LUTRAM and SRL cells occupy, as Vivado's and FINN's LUT counts do; ``ff_per_lut_xc7`` is per
    such LUT, ``ff_per_logic_lut_xc7`` per logic LUT), ECP5-85k LUTs, Fmax and critical path
    (nextpnr router2, seed 1), images/s = Fmax / cycles. Then the slowest Fmax over the default
    designs, ``sfc`` compiled at FINN SFC-max's 16 cycles per image against FINN's 91,131 LUTs, and
    the fewest cycles per image reached by ``cnv-mnist``. Models are trained for ``epochs`` (the
    hardware does not depend on accuracy) under ``root``, reused across runs. ``points`` narrows the
    design points (``default``, ``fastest``, ``finn``); the summaries cover the points measured."""
    from .flow import trained_run
    from .runs import open_run

    root = Path(root)
    out = {"bench": "throughput", "epochs": epochs, "device": "ecp5 85k", "models": {}}
    for model in models:
        chosen = [p for p in points if p != "finn" or model == "sfc"]
        if not chosen:  # only the finn point, which is sfc's
            continue
        base = trained_run(model, root / "runs" / model, epochs)
        graph = open_run(base).graph()
        out["models"][model] = {name: _hardware_point(base, root / "points" / f"{model}-{name}",
                                                      _point_target(graph, name), images) for name in chosen}
    defaults = [m["default"] for m in out["models"].values() if "default" in m]
    fmax = [d["fmax_mhz_ecp5"] for d in defaults if d.get("fmax_mhz_ecp5")]
    out["fmax_min_mhz"] = min(fmax) if fmax else None
    ratios = [d["ff_per_lut_xc7"] for d in defaults if d.get("ff_per_lut_xc7") is not None]
    out["ff_per_lut_max_default"] = max(ratios) if ratios else None
    if "finn" in out["models"].get("sfc", {}):
        finn = out["models"]["sfc"]["finn"]
        # FINN's LUTs are Vivado's, which count the LUTs used as memory: compare like with like
        out["sfc_finn_point"] = {"cycles_per_image": finn["cycles_per_image"], "luts_xc7": finn["luts_xc7"],
                                 "lut_sites_xc7": finn["lut_sites_xc7"],
                                 "ratio_vs_finn_sfc_max": round(FINN_SFC_MAX_LUTS / finn["lut_sites_xc7"], 3)
                                 if finn["lut_sites_xc7"] else None, "mismatches": finn["mismatches"]}
    if out["models"].get("cnv-mnist"):
        out["cnv_min_cycles"] = min(p["cycles_per_image"] for p in out["models"]["cnv-mnist"].values())
    return out


POPCOUNT_LANES = (16, 64, 144, 288, 576, 1024, 4096)
POPCOUNT_ZOO = ("sfc", "cnv-mnist", "mst-cnv-mnist")


def popcount_unit(n: int, mode: str, popcount):
    """The MVTU of ``n`` XNOR lanes the popcount bench measures: ``simd = min(n, 512)`` lanes per PE,
    ``n / simd`` PEs; ``constant``: fully parallel with hard-wired weights; ``memory``: 128 words of
    weights in block RAM, chunks of ``simd`` inputs issued as they arrive (a dense layer of ``128 *
    simd`` inputs). Seeded random weights and thresholds."""
    from hw.plan import MVTUPlan, ThresholdOut

    simd = min(n, 512)
    pe = n // simd
    sf = 1 if mode == "constant" else 128
    rng = np.random.default_rng(n)
    w = rng.integers(0, 2, (pe, sf * simd), dtype=np.uint8)
    out = ThresholdOut(rng.integers(sf * simd // 3, 2 * sf * simd // 3, pe), rng.choice([-1, 1], pe))
    return MVTUPlan(f"pop{n}", w, pe, simd, out, mode=mode, input="chunk" if sf > 1 else "vector",
                    popcount=popcount)


def _unit_point(plan, family_name, cache, pnr):
    """Yosys LUTs and FFs of one unit on a family, and of the popcount of all its lanes as one tree
    alone (and, with ``pnr``, the unit's ECP5-85k Fmax)."""
    from amaranth.back import verilog

    from hw.plan import Stage
    from hw.rtl.build import dataflow
    from hw.rtl.compressor_tree import CompressorTree
    from hw.synth import place_and_route, synthesize

    top = f"bench_{plan.name}"
    text = verilog.convert(dataflow([Stage("dut", plan)]), name=top, emit_src=False)
    r = synthesize(text, top, family_name, cache, netlist=pnr)
    # the popcount of all n lanes as one tree, alone (the first PE's weights repeated, if constant)
    first = plan.popcounts[0]
    pop = dataclasses.replace(first, n=plan.pe * plan.simd,
                              weights=None if first.variable else np.tile(first.weights, plan.pe))
    text = verilog.convert(CompressorTree(pop), name=top + "_pop", emit_src=False)
    alone = synthesize(text, top + "_pop", family_name, cache)
    point = {"luts": r["lut"], "ffs": r["ff"], "bram": r["bram"], "latency": plan.latency,
             "pop_luts": alone["lut"], "pop_latency": pop.latency}
    if pnr:
        point["fmax_mhz"] = place_and_route(r["netlist"], family_name, "85k", cache)["fmax_mhz"]
    return point


def bench_popcount(run=None, lanes=POPCOUNT_LANES, models=POPCOUNT_ZOO, epochs=1,
                   root="build/bench-throughput") -> dict:
    """The compressor-tree popcount against the adder tree (:mod:`hw.plan.popcount`).

    Per ``n`` lanes, weight mode (``constant``, ``memory``; see :func:`popcount_unit`) and family
    (xc7, ECP5; each scheduled for its family), with each popcount: LUTs and LUTs per lane of the
    whole unit (``luts_*``) and of the popcount of the ``n`` lanes synthesized alone as one tree
    (``popcount_luts_*``; constant weights: the unit's first PE's, repeated), the
    unit's FFs, the popcount's latency, and on ECP5 the unit's Fmax after place and route (85k,
    router2, seed 1; the trees pipelined alike: a register every two stages or adder levels). Then per
    family and mode the median ``luts_tree / luts_compressor``, and the zoo-level effect: the total
    Yosys LUTs of ``models`` (trained ``epochs`` under ``root``) at the default folding (chosen with
    the compressor) built with each popcount."""
    from hw.compile import FoldAuto, FoldExplicit, compile_graph
    from hw.emit import emit_verilog
    from hw.plan import Popcount, PopcountStyle
    from hw.synth import synthesize

    from .flow import trained_run
    from .resources import synth_cache
    from .runs import open_run

    cache = synth_cache()
    styles = (PopcountStyle.TREE, PopcountStyle.COMPRESSOR)
    units = []
    for n in lanes:
        for mode in ("constant", "memory"):
            for fam in ("xc7", "ecp5"):
                entry = {"n": n, "mode": mode, "family": fam}
                for style in styles:
                    plan = popcount_unit(n, mode, Popcount(style, fam))
                    p = _unit_point(plan, fam, cache, pnr=fam == "ecp5")
                    entry[f"luts_{style}"] = p["luts"]
                    entry[f"lut_per_lane_{style}"] = round(p["luts"] / n, 3)
                    entry[f"popcount_luts_{style}"] = p["pop_luts"]
                    entry[f"popcount_lut_per_lane_{style}"] = round(p["pop_luts"] / n, 3)
                    entry[f"ffs_{style}"] = p["ffs"]
                    entry[f"popcount_latency_{style}"] = p["pop_latency"]
                    if "fmax_mhz" in p:
                        entry[f"fmax_mhz_ecp5_{style}"] = p["fmax_mhz"]
                entry["ratio"] = round(entry["luts_tree"] / max(1, entry["luts_compressor"]), 3)
                entry["popcount_ratio"] = round(entry["popcount_luts_tree"] / max(1, entry["popcount_luts_compressor"]),
                                                3)
                units.append(entry)
    ratios = {f"{fam}_{mode}": round(float(np.median([u["ratio"] for u in units
                                                      if u["family"] == fam and u["mode"] == mode])), 3)
              for fam in ("xc7", "ecp5") for mode in ("constant", "memory")}
    zoo = {}
    for model in models:
        graph = open_run(trained_run(model, Path(root) / "runs" / model, epochs)).graph()
        folding = compile_graph(graph, FoldAuto()).folding
        zoo[model] = {"cycles_per_image": None}
        for fam in ("xc7", "ecp5"):
            for style in styles:
                c = compile_graph(graph, FoldExplicit(folding), popcount=Popcount(style, fam))
                zoo[model]["cycles_per_image"] = c.plan.cycles_per_image
                top = "bench_" + model.replace("-", "_")
                zoo[model][f"luts_{fam}_{style}"] = synthesize(emit_verilog(c.plan, top), top, fam, cache)["lut"]
            zoo[model][f"saving_pct_{fam}"] = round(
                100 * (1 - zoo[model][f"luts_{fam}_compressor"] / zoo[model][f"luts_{fam}_tree"]), 1)
    return {"bench": "popcount", "units": units, "median_ratio_tree_over_compressor": ratios, "zoo": zoo}


BENCHES = {"reference": bench_reference, "compile": bench_compile, "estimator": bench_estimator, "jet": bench_jet,
           "mst": bench_mst, "throughput": bench_throughput, "popcount": bench_popcount}


def run(name, run=None, models=None, points=None) -> dict:
    """Benchmark ``name``; ``models`` narrows the zoo models of ``throughput`` and ``popcount``,
    ``points`` the design points of ``throughput``."""
    if name not in BENCHES:
        raise BitfoldError(f"unknown benchmark {name!r}; known: {', '.join(BENCHES)}")
    if points:
        if name != "throughput":
            raise BitfoldError(f"--points applies to the throughput benchmark, not {name}")
        bad = sorted(set(points) - set(THROUGHPUT_POINTS))
        if bad:
            raise BitfoldError(f"unknown design point {bad[0]!r}; known: {', '.join(THROUGHPUT_POINTS)}")
        if set(points) == {"finn"} and models and "sfc" not in models:
            raise BitfoldError("the finn design point is sfc's; add sfc to --models")
        extra = {"points": tuple(dict.fromkeys(points))}  # each once, in the order given
    else:
        extra = {}
    if not models:
        return BENCHES[name](run=run, **extra)
    if name not in ("throughput", "popcount"):
        raise BitfoldError(f"--models applies to the throughput and popcount benchmarks, not {name}")
    from bnn.models import defaults

    for m in models:
        defaults(m)  # an unknown name: the zoo's own error
    return BENCHES[name](run=run, models=tuple(models), **extra)
