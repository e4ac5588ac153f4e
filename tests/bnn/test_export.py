import json

import numpy as np
import onnx
import torch

from bnn.export import METADATA_KEY, _binary_layers_with_bn, center_thresholds, export_qonnx_model
from bnn.models import build
from hw.ir.ranges import acc_range


def _random_bn(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm1d | torch.nn.BatchNorm2d):
                n = m.num_features
                m.weight.copy_(torch.randn(n, generator=g))
                m.bias.copy_(torch.randn(n, generator=g) * 5)
                m.running_mean.copy_(torch.randn(n, generator=g) * 20)
                m.running_var.copy_(torch.rand(n, generator=g) * 50 + 0.1)
    return model


def _decisions(model):
    """For every BN channel, sign(BN(s * acc)) over every reachable acc, in float64."""
    out = []
    for layer, bn, kind, lo_in, hi_in, s in _binary_layers_with_bn(model):
        lo, hi, step = acc_range(layer.weight_bits(), kind, lo_in, hi_in)
        alpha = (bn.weight / torch.sqrt(bn.running_var + bn.eps)).double().detach().numpy()
        for c in range(len(lo)):
            v = np.arange(lo[c], hi[c] + 1, step) * s
            y = alpha[c] * (v - bn.running_mean[c].item()) + bn.bias[c].item()
            out.append((y >= 0, np.abs(y) / max(abs(alpha[c]) * s * step, 1e-30)))
    return out


def test_centering_keeps_every_decision_and_leaves_half_a_step_margin():
    for name, shape in (("digits-mlp", (1, 8, 8)), ("cnv-mnist", (1, 28, 28))):
        torch.manual_seed(0)
        model = _random_bn(build(name, in_shape=shape), 1).eval()
        before = _decisions(model)
        assert center_thresholds(model) > 0
        after = _decisions(model)
        for (d0, _), (d1, margin) in zip(before, after, strict=True):
            assert np.array_equal(d0, d1)
            assert margin.min() >= 0.49  # half a step from the threshold (bias stored in float32)


def test_export_writes_clean_qonnx_with_config(tmp_path):
    torch.manual_seed(0)
    model = build("digits-mlp", in_shape=(1, 8, 8)).eval()
    path = export_qonnx_model(model, (1, 8, 8), tmp_path / "m.onnx", model.config)
    proto = onnx.load(str(path))
    ops = [n.op_type for n in proto.graph.node]
    assert ops.count("BipolarQuant") == 5 and ops.count("MatMul") == 3 and "Quant" in ops
    meta = {p.key: p.value for p in proto.metadata_props}
    assert json.loads(meta[METADATA_KEY])["model"] == "digits-mlp"
    assert list(tmp_path.iterdir()) == [path]  # nothing else left behind


def test_export_lowers_to_the_ir_a_dynamo_export_gives_up_to_layer_names(tmp_path):
    """bitfold exports with the TorchScript exporter (ten times faster); a user's model exported by
    torch.export (Brevitas' default) must lower to the same integer IR: only Gemm/Reshape become
    MatMul/Flatten in the names."""
    import foreign
    from bitfold.flow import lower_to_ir

    torch.manual_seed(0)
    model = _random_bn(build("digits-mlp", in_shape=(1, 8, 8)), 3).eval()
    ours = lower_to_ir(export_qonnx_model(model, (1, 8, 8), tmp_path / "ts.onnx")).to_json()
    foreign.export(model, tmp_path / "dynamo.onnx")  # as a user exports: Brevitas' default
    theirs = lower_to_ir(tmp_path / "dynamo.onnx").to_json()
    assert "Gemm_0" in theirs and "MatMul_0" in ours
    assert ours == theirs.replace("Gemm_", "MatMul_").replace("Reshape_", "Flatten_")
