"""The benchmarks' own logic (which design points run, what the summaries cover), with the training
and the hardware flow replaced: the figures themselves are measured by ``make bench``."""

import pytest

from bitfold import bench
from hw.errors import BitfoldError


@pytest.fixture
def measured(monkeypatch, tmp_path):
    """Every design point the throughput bench measures, as (model, point), without measuring."""
    calls, trained = [], []

    class Run:
        def graph(self):
            return None

    def hardware_point(base, path, target, images=None, progress=False):
        calls.append(path.name)
        return {"cycles_per_image": target, "fmax_mhz_ecp5": 100.0, "ff_per_lut_xc7": 1.0, "luts_xc7": 1000,
                "lut_sites_xc7": 1100, "mismatches": 0}

    monkeypatch.setattr("bitfold.flow.trained_run", lambda model, path, epochs: trained.append(model) or path)
    monkeypatch.setattr("bitfold.runs.open_run", lambda path: Run())
    monkeypatch.setattr(bench, "_point_target", lambda graph, point: {"default": 64, "fastest": 8, "finn": 16}[point])
    monkeypatch.setattr(bench, "_hardware_point", hardware_point)
    monkeypatch.chdir(tmp_path)
    return calls, trained


def test_throughput_measures_each_point_asked_for_once(measured):
    calls, trained = measured
    r = bench.run("throughput", points=["finn", "finn"])
    assert calls == ["sfc-finn"] and trained == ["sfc"]  # the finn point is sfc's: nothing else is trained
    assert r["sfc_finn_point"]["ratio_vs_finn_sfc_max"] == round(91_131 / 1100, 3)
    assert "cnv_min_cycles" not in r and r["fmax_min_mhz"] is None

    calls.clear()
    r = bench.run("throughput", models=["cnv-mnist", "sfc"], points=["default", "fastest", "default"])
    assert calls == ["cnv-mnist-default", "cnv-mnist-fastest", "sfc-default", "sfc-fastest"]
    assert r["cnv_min_cycles"] == 8 and r["fmax_min_mhz"] == 100.0 and "sfc_finn_point" not in r


def test_throughput_refuses_points_it_cannot_measure(measured):
    with pytest.raises(BitfoldError, match=r"^the finn design point is sfc's; add sfc to --models$"):
        bench.run("throughput", models=["tfc"], points=["finn"])
    with pytest.raises(BitfoldError, match=r"^--points applies to the throughput benchmark, not popcount$"):
        bench.run("popcount", points=["default"])
    assert measured == ([], [])
