"""sim/lint.py: the compiled Verilog of every zoo model lints clean under Verilator -Wall with the
waiver file written beside it. The models tests/bitfold/test_compile_sim.py compiles and simulates
(digits-mlp, tfc, cnv-mnist, the jet and MST models, and a fully parallel design with its weights in
logic, imported pynq-fc) are linted there: one compile of each; the bare stream core (the same units,
other top-level ports) in its test of both interfaces."""

import pytest
import torch

from bitfold.flow import lower_to_ir
from bnn.export import export_qonnx_model
from bnn.models import build
from hw.compile import FoldAuto, compile_graph
from hw.emit import write_design
from hw.plan.interface import Interface
from rtlcheck import lint_clean

pytestmark = [pytest.mark.verilator, pytest.mark.slow]


@pytest.mark.parametrize("model,fold", [
    ("sfc", FoldAuto(3000)),
    ("lfc", FoldAuto(6000)),
])
def test_zoo_verilog_lints_clean(model, fold, tmp_path):
    torch.manual_seed(0)
    shape = (1, 28, 28)
    net = build(model, in_shape=shape).eval()
    onnx = export_qonnx_model(net, shape, tmp_path / "model.onnx", {"model": model, "model_config": net.config})
    plan = compile_graph(lower_to_ir(onnx), fold).plan
    write_design(plan, tmp_path, "zoo_top", Interface.AXIS)
    lint_clean(tmp_path)
