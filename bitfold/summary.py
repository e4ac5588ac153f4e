"""``bitfold summary``: what the stages of a run have established, in one table."""

import json

from .runs import open_run

__all__ = ["summarize"]


def _load(run, name):
    p = run.file(name)
    return json.loads(p.read_text()) if p.exists() else None


def summarize(path) -> dict:
    run = open_run(path)
    check, sim, man = _load(run, "check.json"), _load(run, "sim/sim.json"), _load(run, "rtl/manifest.json")
    out = {"run": str(run.path), "model": run.config.get("model"), "dataset": run.dataset}
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
                    "images_per_s_at_100mhz": round(1e8 / sim["cycles_per_image"], 1)})
    for fam in ("xc7", "ecp5", "ice40"):
        syn = _load(run, f"synth/{fam}.json")
        if syn is None:
            continue
        entry = {"synth": {k: syn["total"][k] for k in ("lut", "ff", "bram")}, "yosys": syn["yosys"]}
        if man:
            from .resources import estimate_run

            total = estimate_run(path, fam)["total"]
            entry["estimate"] = {k: total[k] for k in ("lut", "ff", "bram")}
        if syn.get("fmax_mhz"):
            entry["fmax_mhz"] = syn["fmax_mhz"]
            entry["images_per_s_at_fmax"] = syn.get("images_per_s_at_fmax")
        out.setdefault("resources", {})[fam] = entry
    mism = [out.get(k) for k in ("mismatches_torch", "mismatches_qonnx", "mismatches_rtl")]
    out["bit_exact"] = all(m in (0, None) for m in mism) and any(m == 0 for m in mism)
    return out
