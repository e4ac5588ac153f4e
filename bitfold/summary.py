"""``bitfold summary``: what the stages of a run have established, in one table.

Only results that are current are shown (:mod:`bitfold.provenance`): a simulation of RTL that has
since been recompiled, a check of an IR that has since changed, a synthesis of other Verilog are
listed under ``stale`` with the command that refreshes each, and count for nothing. A result file
that is damaged or was edited is an error naming it.
"""

from hw.errors import BitfoldError

from .provenance import BOARDS, FAMILIES, status
from .runs import open_run

__all__ = ["summarize"]


def summarize(path, results=None) -> dict:
    """The run's current results; ``results`` may pass :func:`bitfold.provenance.status` of it."""
    run = open_run(path)
    st = status(run.path) if results is None else results
    for s in st.values():
        if s.state == "invalid":
            raise BitfoldError(f"{run.file(s.rel)}: {s.reason}; run `{s.refresh}` to write it again",
                               where=run.file(s.rel))
    fresh = {rel: s.doc for rel, s in st.items() if s.fresh}
    out = {"run": str(run.path), "model": run.config.get("model"), "dataset": run.dataset,
           "stale": [s.line() for s in st.values() if s.state == "stale"]}
    check, man, sim = fresh.get("check.json"), fresh.get("rtl/manifest.json"), fresh.get("sim/sim.json")
    if check:
        out.update({"images_checked": check["images"], "accuracy_torch": check["accuracy_torch"],
                    "accuracy_qonnx": check["accuracy_qonnx"], "accuracy_reference": check["accuracy_reference"],
                    "mismatches_torch": check["mismatches_torch"], "mismatches_qonnx": check["mismatches_qonnx"]})
    if man:
        out.update({"cycles_per_image_analytic": man["cycles_per_image"],
                    "latency_cycles_analytic": man["latency_cycles"],
                    "folding": {x["name"]: [x["pe"], x["simd"], x["weight_mode"]]
                                for x in man["layers"] if "pe" in x}})
    if sim:
        out.update({"images_simulated": sim["images"], "accuracy_rtl": sim["rtl_accuracy"],
                    "mismatches_rtl": sim["mismatches"], "cycles_per_image": sim["cycles_per_image"],
                    "latency_cycles": sim["latency_cycles"],
                    "images_per_s_at_100mhz": round(1e8 / sim["cycles_per_image"], 1)
                    if sim["cycles_per_image"] else None})
    for fam in FAMILIES:
        syn = fresh.get(f"synth/{fam}.json")
        if syn is None:
            continue
        entry = {"synth": {k: syn["total"][k] for k in ("lut", "ff", "bram")}, "yosys": syn["yosys"]}
        if man:
            from .resources import estimate_run

            try:
                total = estimate_run(path, fam)["total"]
                entry["estimate"] = {k: total[k] for k in ("lut", "ff", "bram")}
            except BitfoldError as e:  # e.g. no calibration for the family: say so beside the synthesis
                entry["estimate_error"] = str(e)
        if syn.get("fmax_mhz"):
            entry["fmax_mhz"] = syn["fmax_mhz"]
            entry["images_per_s_at_fmax"] = syn.get("images_per_s_at_fmax")
        out.setdefault("resources", {})[fam] = entry
    for b in BOARDS:
        dep = fresh.get(f"board/{b}/deploy.json")
        if dep:
            out.setdefault("boards", {})[b] = {
                "bitstream": f"board/{b}/{dep['bitstream']}", "fmax_mhz": dep["fmax_mhz"],
                "clock_mhz": dep["clock_mhz"],
                "link_images_per_s": dep.get("link_images_per_s"), "program": dep["program"]}
    mism = [out.get(k) for k in ("mismatches_torch", "mismatches_qonnx", "mismatches_rtl")]
    out["bit_exact"] = all(m in (0, None) for m in mism) and any(m == 0 for m in mism)
    return out
