import numpy as np
import onnx
import pytest
import torch
import torch.nn as nn
from brevitas.nn import QuantConv2d, QuantIdentity, QuantLinear
from brevitas.quant.binary import SignedBinaryActPerTensorConst, SignedBinaryWeightPerTensorConst

import foreign
import handmade
from hw.errors import BitfoldError
from hw.ir import interp
from hw.ir.from_qonnx import from_qonnx
from hw.ir.graph import Conv, Dense, FloatOps, MaxPool, Quantize, Sign
from hw.ir.verify import verify
from hw.passes import streamline


def _qonnx_classes(path, x):
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx
    from qonnx.transformation.change_batchsize import ChangeBatchSize
    from qonnx.transformation.infer_shapes import InferShapes
    from qonnx.util.cleanup import cleanup_model

    m = cleanup_model(ModelWrapper(str(path))).transform(ChangeBatchSize(len(x))).transform(InferShapes())
    out = execute_onnx(m, {m.graph.input[0].name: x})[m.graph.output[0].name]
    return out.argmax(1)


@pytest.mark.parametrize("name", sorted(n for n in foreign.FOREIGN if n not in foreign.IN_SHAPES))
def test_foreign_brevitas_models_import_and_agree(name, foreign_file):
    path = foreign_file(name)
    raw = verify(from_qonnx(path))
    g = verify(streamline(raw))
    x = np.random.default_rng(0).integers(0, 256, (300, 1, 8, 8)).astype(np.float32) / 256
    model = foreign.make(name)
    with torch.no_grad():
        torch_classes = model(torch.from_numpy(x)).argmax(1).numpy()
    ref = interp.classify(g, x)
    assert np.array_equal(ref, interp.classify(raw, x))  # streamlining changes nothing
    assert np.array_equal(ref, _qonnx_classes(path, x))
    assert np.array_equal(ref, torch_classes)


def test_foreign_shapes_of_the_import(foreign_file):
    g = from_qonnx(foreign_file("small-cnv"))
    ops = [type(n) for n in g.nodes]
    assert ops[0] is Quantize and not g.nodes[0].bipolar and g.nodes[0].bitwidth == 8
    assert ops.count(Conv) == 2 and ops.count(MaxPool) == 1 and ops.count(Dense) == 2
    last = streamline(g).nodes[-1]
    assert last.sign == -1  # the -0.5 after the last layer reverses the order
    pynq = from_qonnx(foreign_file("pynq-fc"))
    assert pynq.nodes[0].bipolar and pynq.nodes[0].pre == (("mul", 2.0), ("sub", 1.0))
    assert pynq.nodes[2].out.scale == pytest.approx(0.1)  # Brevitas' default binary weight scale


def test_matmul_transpose_and_one_bit_quant(tmp_path):
    path = handmade.save(handmade.matmul_model(), tmp_path / "mm.onnx")
    raw = verify(from_qonnx(path))
    assert [n.op for n in raw.nodes] == ["Quantize", "Flatten", "Dense", "FloatOps", "Sign", "Dense", "FloatOps"]
    assert [k for k, _ in raw.nodes[3].ops] == ["add", "mul", "div"]
    g = streamline(raw)
    x = np.random.default_rng(1).random((500, 48), dtype=np.float32)
    assert np.array_equal(interp.classify(g, x), _qonnx_classes(path, x))


def _export(model, path, shape):
    foreign.export(model, path, shape)
    return path


def test_truncated_file(tmp_path, foreign_file):
    blob = foreign_file("pynq-fc").read_bytes()
    bad = tmp_path / "cut.onnx"
    bad.write_bytes(blob[: len(blob) // 2])
    with pytest.raises(BitfoldError, match=rf"^{bad}: not a readable ONNX file \(truncated or corrupt: "):
        from_qonnx(bad)


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(BitfoldError, match=rf"^{tmp_path / 'none.onnx'}: no such file$"):
        from_qonnx(tmp_path / "none.onnx")
    empty = tmp_path / "empty.onnx"
    onnx.save(onnx.helper.make_model(onnx.helper.make_graph([], "g", [], [])), str(empty))
    with pytest.raises(BitfoldError, match=r": the ONNX graph has no nodes$"):
        from_qonnx(empty)


def test_unsupported_op_is_named(tmp_path):
    path = _export(foreign.ReluNet(), tmp_path / "relu.onnx", (1, 8, 8))
    with pytest.raises(BitfoldError) as e:
        from_qonnx(path)
    assert str(e.value) == (
        f"{path}: node Relu_0 (Relu): op type Relu is not supported; supported: BatchNormalization, "
        "BipolarQuant, Conv, Div, Dropout, Flatten, Gemm, Identity, MatMul, MaxPool, Mul, Add, Pad, Quant, "
        "Reshape, Sub, Transpose"
    )


class _ZeroPadConv(nn.Module):
    def __init__(self):
        super().__init__()
        self.inp = QuantIdentity(act_quant=SignedBinaryActPerTensorConst)
        self.conv = QuantConv2d(1, 2, 3, padding=1, bias=False, weight_quant=SignedBinaryWeightPerTensorConst)

    def forward(self, x):
        return self.conv(self.inp(x)).flatten(1)


class _FourBitHidden(nn.Module):
    def __init__(self):
        super().__init__()
        self.inp = QuantIdentity(act_quant=SignedBinaryActPerTensorConst)
        self.fc1 = QuantLinear(64, 8, bias=False, weight_quant=SignedBinaryWeightPerTensorConst)
        self.act = QuantIdentity(bit_width=4)
        self.fc2 = QuantLinear(8, 10, bias=False, weight_quant=SignedBinaryWeightPerTensorConst)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(self.inp(x.flatten(1)))))


class _FloatWeights(nn.Module):
    def __init__(self):
        super().__init__()
        self.inp = QuantIdentity(act_quant=SignedBinaryActPerTensorConst)
        self.fc = nn.Linear(64, 10, bias=False)

    def forward(self, x):
        return self.fc(self.inp(x.flatten(1)))


@pytest.mark.parametrize("model,message", [
    (_ZeroPadConv, r"node Conv_0 \(Conv\): zero padding on a binary input would put a 0 into an XNOR datapath"),
    (_FourBitHidden, r"node Quant_0 \(Quant\): quantizes a hidden activation to 4 bits \(signed\); bitfold "
                     r"supports binary activations"),
    (_FloatWeights, r"node Gemm_0 \(Gemm\): weights are not binarized"),
])
def test_models_bitfold_cannot_run_exactly_are_refused_by_name(model, message, tmp_path):
    path = _export(model(), tmp_path / "m.onnx", (1, 8, 8))
    with pytest.raises(BitfoldError, match=rf"^{path}: {message}"):
        from_qonnx(path)


def test_our_export_imports_with_sources(digits_run):
    g = from_qonnx(digits_run / "model.qonnx.onnx")
    assert isinstance(g.nodes[0], Quantize) and g.nodes[0].scale == 2**-8
    assert sum(isinstance(n, FloatOps) for n in g.nodes) == 2
    assert all(n.src for n in g.nodes if isinstance(n, Sign))


def test_jet_layer_imports_as_jetconv(tmp_path):
    from bnn.export import export_qonnx_model
    from bnn.models import build
    from hw.ir.graph import JetConv
    from hw.ir.jets import decompose

    torch.manual_seed(0)
    model = build("jet-mnist", in_shape=(1, 20, 20))
    model.finalize()
    model.eval()
    path = export_qonnx_model(model, (1, 20, 20), tmp_path / "jet.onnx")
    g = verify(from_qonnx(path))
    jet = g.nodes[1]
    assert isinstance(jet, JetConv)
    layer = model.features[0]
    assert np.array_equal(jet.coeffs, decompose(layer.integer_kernels()))
    x = np.random.default_rng(0).integers(0, 256, (50, 1, 20, 20)).astype(np.float32) / 256
    with torch.no_grad():
        assert np.array_equal(interp.classify(streamline(g), x), model(torch.from_numpy(x)).argmax(1).numpy())


def test_integer_kernel_that_is_not_a_jet_is_refused(tmp_path):
    from bnn.layers.jet_conv import JetWeightQuant

    class Box(nn.Module):
        def __init__(self):
            super().__init__()
            self.inp = QuantIdentity(bit_width=8, return_quant_tensor=False)
            self.conv = QuantConv2d(1, 2, 3, bias=False, weight_quant=JetWeightQuant)
            with torch.no_grad():
                self.conv.weight.fill_(1.0)

        def forward(self, x):
            return self.conv(self.inp(x)).flatten(1)

    path = _export(Box(), tmp_path / "box.onnx", (1, 8, 8))
    with pytest.raises(BitfoldError, match=r"node Conv_0 \(Conv\): integer kernel is not a -1/0/\+1 combination of "
                                           r"the nine jets"):
        from_qonnx(path)


def test_supported_ops_are_the_handler_table():
    from hw.ir.from_qonnx import SUPPORTED_OPS
    from hw.ir.from_qonnx.ops import OPS

    assert SUPPORTED_OPS == tuple(OPS)
    assert all(callable(op.handler) for op in OPS.values())


def _with_neg(nodes):
    """The handmade model with a Neg after its last node."""
    nodes[-1].output[0] = "y_pos"
    return nodes + [onnx.helper.make_node("Neg", ["y_pos"], ["y"], name="neg")]


def test_an_op_is_added_by_one_table_entry(tmp_path, monkeypatch):
    from hw.ir.from_qonnx.ops import OPS, Op

    path = handmade.save(handmade.matmul_model(extra=_with_neg), tmp_path / "neg.onnx")
    with pytest.raises(BitfoldError) as e:
        from_qonnx(path)
    assert str(e.value).endswith(f"op type Neg is not supported; supported: {', '.join(OPS)}")

    def neg(ctx, node, state):
        return state.float_op(node.name, "mul", np.asarray(-1.0, np.float32), node.output[0])

    monkeypatch.setitem(OPS, "Neg", Op(neg))
    g = verify(from_qonnx(path))
    assert g.nodes[-1].ops[-1] == ("mul", -1.0)  # merged into the float ops after the last layer
    x = np.random.default_rng(2).random((200, 48), dtype=np.float32)
    assert np.array_equal(interp.classify(streamline(g), x), _qonnx_classes(path, x))
