"""``bitfold estimate``, ``synth``, ``report`` and ``calibrate``: what a compiled design costs.

``estimate`` is analytic (milliseconds); ``synth`` runs Yosys (and nextpnr with ``pnr``) on the
emitted RTL, whole and layer by layer; ``report`` gathers accuracy, folding, cycles, throughput
and estimate-vs-synthesis into ``RUN/report/``: ``report.md``, ``report.json`` and a bar chart
``report_luts.png``, made in a temporary folder and swapped in whole.
"""

import shutil
import time
from pathlib import Path

from hw.emit import plan_of
from hw.errors import BitfoldError
from hw.estimate import calibration_path, estimate, load_calibration
from hw.io import atomic_write_bytes, atomic_write_json, file_lock, replace_dir, temp_dir, user_cache
from hw.synth import FAMILIES, family, synth_design

from .provenance import bytes_digest, file_digest, stamp, tool_versions
from .runs import compiled, open_run
from .schema import read_json, validate

__all__ = ["estimate_run", "synth_run", "report_run", "calibrate_run", "synth_cache", "check_synth_options",
           "ESTIMATED"]


def synth_cache() -> Path:
    """Synthesis cache shared by calibration and the benchmarks: ``<user cache>/synth``."""
    return user_cache() / "synth"


def _compiled(path):
    run = open_run(path)
    with file_lock(run.path, shared=True):
        comp = compiled(run)
    return run, comp, plan_of(comp.graph, comp.manifest)


# Families the estimator models. iCE40 is synthesized (`bitfold synth --family ice40`, with
# nextpnr for Fmax) but not estimated: it has no distributed RAM, so the small FIFOs the estimator
# counts as LUT RAM become block RAM or logic there, which its memory model does not describe.
ESTIMATED = ("xc7", "ecp5")
NOT_ESTIMATED = {"ice40": "iCE40 has no distributed RAM, so the small FIFOs the estimator counts as LUT RAM become "
                          "block RAM there, which its model does not describe; synthesize instead: "
                          "`bitfold synth RUN --family ice40`"}


def _calibration(family_name):
    """The estimator's calibration (validated) and its path; an error when it lacks the family."""
    if family_name in NOT_ESTIMATED:
        raise BitfoldError(f"the estimator does not model {family_name}: {NOT_ESTIMATED[family_name]}",
                           where="--family")
    path = calibration_path()
    read_json(path, "calibration")
    cal = load_calibration(path)
    if family_name not in cal["families"]:
        raise BitfoldError(f"{path}: the estimator has no calibration for {family_name} (calibrated: "
                           f"{', '.join(cal['families'])}); run `bitfold calibrate --family {family_name}`",
                           where=path)
    return path, cal


def estimate_run(path, family_name="xc7") -> dict:
    family(family_name)
    cal_path, cal = _calibration(family_name)
    run, comp, plan = _compiled(path)
    t0 = time.perf_counter()
    est = estimate(plan, family_name, cal)
    ms = (time.perf_counter() - t0) * 1e3
    return {"run": str(run.path), "family": family_name, "estimate_ms": round(ms, 2), **est,
            "calibration": str(cal_path)}


def check_synth_options(family_name, pnr=False, device=None, freq=None):
    """Refuse options that cannot work before any synthesis runs."""
    fam = family(family_name)
    if freq is not None:
        if not pnr:
            raise BitfoldError("--freq applies to --pnr only", where="--freq")
        if not isinstance(freq, (int, float)) or isinstance(freq, bool) or not 1 <= freq <= 1000:
            raise BitfoldError(f"--freq: the target clock must be a number of MHz from 1 to 1000, not {freq!r}",
                               where="--freq")
    if pnr and fam.pnr is None:
        raise BitfoldError(f"--pnr: place and route is available for "
                           f"{', '.join(n for n, f in FAMILIES.items() if f.pnr)}, not {family_name} "
                           "(no open-source flow)", where="--pnr")
    if device is not None:
        if not pnr:
            raise BitfoldError("--device applies to --pnr only", where="--device")
        if device not in fam.devices:
            raise BitfoldError(f"--device: unknown {family_name} device {device!r}; choose one of "
                               f"{', '.join(fam.devices)}", where="--device")


def synth_run(path, family_name="xc7", pnr=False, device=None, per_layer=True, progress=True, freq=None) -> dict:
    """Synthesize a compiled run with Yosys (and with ``pnr`` place and route it with nextpnr, aiming
    at ``freq`` MHz with timing-driven rip-up when given); writes and returns ``RUN/synth/FAMILY.json``."""
    check_synth_options(family_name, pnr, device, freq)
    run, comp, plan = _compiled(path)
    man = comp.manifest
    cache = run.file("synth/cache")
    res = synth_design(plan, comp.verilog, man["top"], family_name, cache, per_layer=per_layer, pnr=pnr,
                       device=device, progress=progress, freq_mhz=freq)
    out = {"run": str(run.path), "family": family_name, "yosys": res["yosys"],
           "total": _counts(res["total"]), "layers": {k: _counts(v) for k, v in res["layers"].items()},
           "synth_s": round(sum(r["seconds"] for r in [res["total"], *res["layers"].values()]), 1)}
    if plan.popcount.style == "compressor" and plan.popcount.family != family_name:
        out["note"] = (f"the popcounts were scheduled for {plan.popcount.family} LUTs; for {family_name}'s, "
                       f"compile with --family {family_name}")
    tools = {"yosys": res["yosys"]}
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
        tools.update(tool_versions(family(family_name).pnr))
    cmd = (f"bitfold synth {run.path} --family {family_name}" + (" --pnr" if pnr else "")
           + (f" --device {device}" if device else "") + (f" --freq {freq:g}" if freq else "")
           + ("" if per_layer else " --total-only"))
    out = stamp(out, "synth", command=cmd, inputs=comp.inputs, tools=tools,
                options={"pnr": pnr, "device": device, "per_layer": per_layer, "freq_mhz": freq})
    atomic_write_json(run.file(f"synth/{family_name}.json"), out)
    return out


def _counts(r):
    from hw.synth import COUNTS

    return {k: r[k] for k in COUNTS if k in r} | {"seconds": r["seconds"]}


def report_run(path, family_name="xc7", synth=True, progress=True) -> dict:
    """Write ``RUN/report/`` (``report.md``, ``report.json``, ``report_luts.png``, swapped in as one
    folder) from the results that are current (stale ones are listed in the report, not used)."""
    from .provenance import status
    from .summary import summarize

    family(family_name)
    _calibration(family_name)  # before any synthesis
    run, comp, plan = _compiled(path)
    man = comp.manifest
    if synth:
        synth_run(path, family_name, progress=progress)
    results = status(run.path)
    summary = summarize(path, results)
    est = estimate_run(path, family_name)
    inputs = dict(comp.inputs)
    for rel in ("check.json", "sim/sim.json"):
        if results[rel].fresh:
            inputs[rel] = file_digest(run.file(rel))
    syn_rel = f"synth/{family_name}.json"
    syn = results[syn_rel].doc if results[syn_rel].fresh else None
    if syn:
        inputs[syn_rel] = file_digest(run.file(syn_rel))
    pnr = None
    for fam in ("ecp5", "ice40"):
        st = results[f"synth/{fam}.json"]
        if st.fresh and "pnr" in st.doc:
            pnr = st.doc
            inputs[st.rel] = file_digest(run.file(st.rel))
            break
    inputs[est["calibration"]] = file_digest(est["calibration"])
    layers = []
    for info in man["layers"]:
        name = info["name"]
        row = {"layer": name, "op": info["op"], "pe": info.get("pe"), "simd": info.get("simd"),
               "weights": info.get("weight_mode"), "cycles_per_image": info["cycles_per_image"],
               "estimate": est["layers"].get(name)}
        if syn:
            row["synth"] = syn["layers"].get(name)
        layers.append(row)
    measured = "cycles_per_image" in summary
    report = {
        "run": str(run.path), "model": summary.get("model"), "family": family_name,
        "accuracy": {k: summary.get(f"accuracy_{k}") for k in ("torch", "qonnx", "reference", "rtl")},
        "images_checked": summary.get("images_checked"), "images_simulated": summary.get("images_simulated"),
        "bit_exact": summary["bit_exact"], "rtl_simulated": "mismatches_rtl" in summary,
        "cycles_per_image": summary["cycles_per_image"] if measured else man["cycles_per_image"],
        "cycles_measured": measured,
        "latency_cycles": summary["latency_cycles"] if measured else man["latency_cycles"],
        "estimate_total": est["total"], "estimate_ms": est["estimate_ms"], "calibration": est["calibration"],
        "synth_total": syn["total"] if syn else None, "yosys": syn["yosys"] if syn else None,
        "layers": layers, "stale": summary["stale"],
    }
    if pnr:
        report["fmax_mhz"] = {pnr["family"]: pnr["fmax_mhz"]}
        report["images_per_s_at_fmax"] = {pnr["family"]: pnr.get("images_per_s_at_fmax")}
    png = _plot(layers, family_name)
    md = _markdown(report).encode()
    outputs = {"report.md": bytes_digest(md), "report_luts.png": bytes_digest(png)}
    report = stamp(report, "report", command=f"bitfold report {run.path} --family {family_name}"
                   + ("" if synth else " --no-synth"), inputs=inputs, outputs=outputs,
                   options={"synth": synth})
    tmp = temp_dir(run.path, ".report.")
    try:
        atomic_write_bytes(tmp / "report_luts.png", png)
        atomic_write_bytes(tmp / "report.md", md)
        atomic_write_json(tmp / "report.json", report)
        replace_dir(tmp, run.file("report"))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return report


def _plot(layers, family_name) -> bytes:
    import io

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
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, metadata={"Software": None})  # no version stamp: same data, same bytes
    plt.close(fig)
    return buf.getvalue()


def _pct(v):
    return "-" if v is None else f"{100 * v:.2f}%"


def _markdown(r) -> str:
    acc = r["accuracy"]
    lines = [f"# bitfold report: {r['model']} ({r['run']})", "",
             "| | torch | QONNX | reference | RTL |", "|---|---|---|---|---|",
             "| images | " + " | ".join(str(r[k] or "-") for k in ("images_checked",) * 3 + ("images_simulated",))
             + " |",
             "| accuracy | " + " | ".join(_pct(acc[k]) for k in ("torch", "qonnx", "reference", "rtl")) + " |",
             "", _exactness(r), "",
             f"Cycles per image: {r['cycles_per_image']:g}; latency {r['latency_cycles']} cycles "
             + ("(measured in simulation)." if r["cycles_measured"] else "(analytic: the RTL is not simulated).")]
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
    if r["stale"]:
        lines += ["## Not used: stale results", ""] + [f"- {line}" for line in r["stale"]] + [""]
    return "\n".join(lines)


def _exactness(r) -> str:
    levels = [k for k in ("torch", "qonnx", "reference") if r["accuracy"].get(k) is not None] or ["reference"]
    if r["rtl_simulated"]:
        levels.append("rtl")
    names = {"torch": "torch", "qonnx": "QONNX", "reference": "reference", "rtl": "RTL"}
    text = f"Bit-exact ({' = '.join(names[k] for k in levels)}): **{'yes' if r['bit_exact'] else 'NO'}**."
    if not r["rtl_simulated"]:
        text += f" The RTL is not simulated: run `bitfold sim {r['run']}`."
    return text


def calibrate_run(families=("xc7", "ecp5"), out=None, baselines=None, progress=True, jobs=1) -> dict:
    """Synthesize the regression set for ``families`` and refit the estimator's constants.

    Writes the calibration to ``out`` (default: ``<user cache>/calibration.json``, which the
    estimator then uses) and the synthesized counts into the folder ``baselines`` (default:
    ``<user cache>/baselines``), running ``jobs`` syntheses at once. Families not refitted are kept
    from the calibration at ``out`` (or, for a new file, from the package's) when it was fitted on
    the same Yosys version.
    Developers refit the committed files with
    ``bitfold calibrate --family xc7 ecp5 --out hw/estimate/calibration.json
    --baselines hw/synth/baselines`` (``make calibrate``).
    """
    from hw.estimate import CALIBRATION
    from hw.estimate.fit import design_features, fit
    from hw.synth import yosys_version
    from hw.synth.baselines import write_baseline
    from hw.synth.calibrate import measure_tables
    from hw.synth.dataset import collect
    from hw.synth.regression import build

    for fam in families:
        family(fam)
        if fam in NOT_ESTIMATED:
            raise BitfoldError(f"the estimator does not model {fam}: {NOT_ESTIMATED[fam]}", where="--family")
    out = Path(out) if out is not None else user_cache() / "calibration.json"
    baselines = Path(baselines) if baselines is not None else user_cache() / "baselines"
    for target in (out.parent, baselines):
        _writable_folder(target)
    version = yosys_version()
    base = None
    for candidate in (out, CALIBRATION):
        if candidate.is_file():
            try:
                doc = read_json(candidate, "calibration")
            except BitfoldError:
                continue
            if doc["yosys"] == version:
                base = doc
                break
    cache = synth_cache()
    rows, tables = {}, {"or_luts": {}}
    for fam in families:
        tables["or_luts"].update(measure_tables(fam, cache)["or_luts"])
        rows[fam] = collect(fam, cache, progress=progress, jobs=jobs)
    fitted = {}
    for fam in families:
        feats = {r["name"]: design_features([s.unit for s in build(r["name"], fam)[1]], fam, tables) for r in rows[fam]}
        fitted[fam] = {"lut": fit(rows[fam], feats), "designs": [r["name"] for r in rows[fam]]}
    kept = {f: v for f, v in (base or {}).get("families", {}).items() if f not in fitted}
    or_luts = {f: v for f, v in (base or {}).get("tables", {}).get("or_luts", {}).items() if f in kept}
    doc = {"yosys": version, "fitted": time.strftime("%Y-%m-%d"),
           "families": {f: (fitted.get(f) or kept[f]) for f in FAMILIES if f in fitted or f in kept},
           "tables": {"or_luts": {f: (tables["or_luts"].get(f) or or_luts[f]) for f in FAMILIES
                                  if f in tables["or_luts"] or f in or_luts}},
           "note": "fitted by `bitfold calibrate` on the regression set in hw/synth/regression.py"}
    validate(doc, "calibration", out)  # checked before it replaces anything
    atomic_write_json(out, doc)
    baseline = write_baseline(rows, baselines)
    return {"calibration": str(out), "baseline": str(baseline), "yosys": version, "families": list(fitted),
            "kept": list(kept)}


def _writable_folder(folder: Path):
    """Create ``folder`` or fail now with its name (not after an hour of synthesis)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".bitfold-write-test-{time.time_ns()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise BitfoldError(f"{folder}: cannot write here ({e.strerror or e})", where=folder) from None
