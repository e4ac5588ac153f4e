"""``bitfold estimate``, ``synth``, ``report`` and ``calibrate``: what a compiled design costs.

``estimate`` is analytic (milliseconds); ``synth`` runs Yosys (and nextpnr with ``pnr``) on the
emitted RTL, whole and layer by layer; ``report`` gathers accuracy, folding, cycles, throughput
and estimate-vs-synthesis into ``report.md`` / ``report.json`` and a bar chart.
"""

import json
import time

from hw.errors import BitfoldError
from hw.estimate import estimate
from hw.io import atomic_write_json, atomic_write_text
from hw.synth import family, synth_design

from .runs import open_run
from .simulate import hardware_plan

__all__ = ["estimate_run", "synth_run", "report_run", "calibrate_run", "SYNTH_CACHE"]

SYNTH_CACHE = "build/synth-cache"


def _compiled(path):
    run = open_run(path)
    graph, plan, man = hardware_plan(run)
    rtl = run.file(f"rtl/{man['verilog']}")
    if not rtl.exists():
        raise BitfoldError(f"{run.path}: the RTL folder has no {man['verilog']}; run `bitfold compile {run.path}`")
    return run, graph, plan, man


def estimate_run(path, family_name="xc7") -> dict:
    family(family_name)
    run, graph, plan, man = _compiled(path)
    t0 = time.perf_counter()
    est = estimate(plan, family_name)
    ms = (time.perf_counter() - t0) * 1e3
    return {"run": str(run.path), "family": family_name, "estimate_ms": round(ms, 2), **est}


def synth_run(path, family_name="xc7", pnr=False, device=None, per_layer=True, progress=True) -> dict:
    family(family_name)
    run, graph, plan, man = _compiled(path)
    verilog = run.file(f"rtl/{man['verilog']}").read_text()
    cache = run.file("synth/cache")
    res = synth_design(plan, verilog, man["top"], family_name, cache, per_layer=per_layer, pnr=pnr,
                       device=device, progress=progress)
    out = {"run": str(run.path), "family": family_name, "yosys": res["yosys"],
           "total": _counts(res["total"]), "layers": {k: _counts(v) for k, v in res["layers"].items()},
           "synth_s": round(sum(r["seconds"] for r in [res["total"], *res["layers"].values()]), 1)}
    if pnr:
        from hw.synth.nextpnr import where

        p = res["pnr"]
        cp = p.get("critical_path")
        if cp:
            stages = {s.name: layer.name for layer in plan.layers for s in layer.stages}
            cp = cp | {"from_where": where(cp["from"], stages), "to_where": where(cp["to"], stages),
                       "slowest_net_where": where(cp["slowest_net"], stages)}
            p = p | {"critical_path": cp}
        out["pnr"] = p
        out["fmax_mhz"] = p["fmax_mhz"]
        if p["fmax_mhz"]:
            out["images_per_s_at_fmax"] = round(p["fmax_mhz"] * 1e6 / man["cycles_per_image"], 1)
    atomic_write_json(run.file(f"synth/{family_name}.json"), out)
    return out


def _counts(r):
    return {k: r[k] for k in ("lut", "ff", "carry", "mux", "lutram", "srl", "bram", "dsp")} | {"seconds": r["seconds"]}


def report_run(path, family_name="xc7", synth=True, progress=True) -> dict:
    """Write ``report.md``, ``report.json`` and ``report_luts.png`` into the run folder."""
    from .summary import summarize

    run, graph, plan, man = _compiled(path)
    summary = summarize(path)
    est = estimate_run(path, family_name)
    syn_path = run.file(f"synth/{family_name}.json")
    syn = synth_run(path, family_name, progress=progress) if synth else (
        json.loads(syn_path.read_text()) if syn_path.exists() else None)
    pnr = None
    for fam in ("ecp5", "ice40"):
        p = run.file(f"synth/{fam}.json")
        if p.exists() and "pnr" in json.loads(p.read_text()):
            pnr = json.loads(p.read_text())
            break
    layers = []
    for info in man["layers"]:
        name = info["name"]
        row = {"layer": name, "op": info["op"], "pe": info.get("pe"), "simd": info.get("simd"),
               "weights": info.get("weight_mode"), "cycles_per_image": info["cycles_per_image"],
               "estimate": est["layers"].get(name)}
        if syn:
            row["synth"] = syn["layers"].get(name)
        layers.append(row)
    report = {
        "run": str(run.path), "model": summary.get("model"), "family": family_name,
        "accuracy": {k: summary.get(f"accuracy_{k}") for k in ("torch", "qonnx", "reference", "rtl")},
        "bit_exact": summary["bit_exact"],
        "cycles_per_image": summary.get("cycles_per_image", man["cycles_per_image"]),
        "latency_cycles": summary.get("latency_cycles", man["latency_cycles"]),
        "estimate_total": est["total"], "estimate_ms": est["estimate_ms"],
        "synth_total": syn["total"] if syn else None, "yosys": syn["yosys"] if syn else None,
        "layers": layers,
    }
    if pnr:
        report["fmax_mhz"] = {pnr["family"]: pnr["fmax_mhz"]}
        report["images_per_s_at_fmax"] = {pnr["family"]: pnr.get("images_per_s_at_fmax")}
    atomic_write_json(run.file("report.json"), report)
    _plot(layers, run.file("report_luts.png"), family_name)
    atomic_write_text(run.file("report.md"), _markdown(report))
    return report


def _plot(layers, path, family_name):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    names = [r["layer"] for r in layers]
    est = [r["estimate"]["lut"] if r.get("estimate") else 0 for r in layers]
    syn = [r["synth"]["lut"] if r.get("synth") else 0 for r in layers]
    x = np.arange(len(names))
    fig, ax = plt.subplots(figsize=(max(6, 0.8 * len(names)), 3.5))
    ax.bar(x - 0.2, est, 0.4, label="estimate")
    ax.bar(x + 0.2, syn, 0.4, label="Yosys")
    ax.set_xticks(x, names, rotation=45, ha="right", fontsize=8)
    ax.set(ylabel=f"LUTs ({family_name})", title="LUTs per layer: estimate beside synthesis")
    ax.legend()
    fig.tight_layout()
    tmp = path.with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)


def _pct(v):
    return "-" if v is None else f"{100 * v:.2f}%"


def _markdown(r) -> str:
    acc = r["accuracy"]
    lines = [f"# bitfold report: {r['model']} ({r['run']})", "",
             "| | torch | QONNX | reference | RTL |", "|---|---|---|---|---|",
             "| accuracy | " + " | ".join(_pct(acc[k]) for k in ("torch", "qonnx", "reference", "rtl")) + " |",
             "", f"Bit-exact across every level: **{'yes' if r['bit_exact'] else 'NO'}**.", "",
             f"Cycles per image: {r['cycles_per_image']:g}; latency {r['latency_cycles']} cycles."]
    if r.get("fmax_mhz"):
        for fam, f in r["fmax_mhz"].items():
            lines.append(f"Fmax on {fam}: {f:.1f} MHz, {r['images_per_s_at_fmax'][fam]:,.0f} images/s.")
    synth = r.get("yosys") or "no synthesis"
    lines += ["", f"## Resources ({r['family']}, {synth}; estimate in {r['estimate_ms']} ms)", "",
              "| layer | op | PE | SIMD | weights | cycles/image | LUT est | LUT synth | FF est | FF synth "
              "| BRAM est | BRAM synth |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in r["layers"]:
        e, s = row.get("estimate") or {}, row.get("synth") or {}
        lines.append(f"| {row['layer']} | {row['op']} | {row['pe'] or '-'} | {row['simd'] or '-'} | "
                     f"{row['weights'] or '-'} | "
                     f"{row['cycles_per_image']} | {e.get('lut', '-')} | {s.get('lut', '-')} | {e.get('ff', '-')} | "
                     f"{s.get('ff', '-')} | {e.get('bram', '-')} | {s.get('bram', '-')} |")
    e, s = r["estimate_total"], r.get("synth_total") or {}
    lines.append(f"| **total** | | | | | | {e['lut']} | {s.get('lut', '-')} | {e['ff']} | {s.get('ff', '-')} | "
                 f"{e['bram']} | {s.get('bram', '-')} |")
    lines += ["", "![LUTs per layer](report_luts.png)", ""]
    return "\n".join(lines)


def calibrate_run(families=("xc7", "ecp5"), progress=True) -> dict:
    """Synthesize the regression set and refit the estimator's constants (hw/estimate/calibration.json)."""
    from hw.estimate import CALIBRATION
    from hw.synth.baselines import write_baseline
    from hw.synth.calibrate import calibrate

    for fam in families:
        family(fam)
    doc, rows = calibrate(families, SYNTH_CACHE, progress=progress)
    atomic_write_json(CALIBRATION, doc)
    write_baseline(rows)
    return {"calibration": str(CALIBRATION), "yosys": doc["yosys"], "families": list(doc["families"])}
