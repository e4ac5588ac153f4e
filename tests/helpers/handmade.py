"""QONNX graphs built node by node with onnx.helper: ops Brevitas does not emit itself (MatMul,
Transpose of weights, 1-bit signed Quant activations, per-channel Mul/Add), as other tools write them."""

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

__all__ = ["matmul_model", "save"]

QONNX = "qonnx.custom_op.general"


def _init(name, value):
    return numpy_helper.from_array(np.asarray(value, dtype=np.float32), name)


def matmul_model(k=48, hidden=20, classes=7, seed=0, extra=None):
    """input (1, k) -> 2x-1 -> BipolarQuant -> MatMul(Transpose(BipolarQuant(W))) -> Add(bias) ->
    Mul(per-channel) -> Quant(1 bit, signed) -> MatMul(BipolarQuant(W2)) -> Mul(2.0) -> output."""
    rng = np.random.default_rng(seed)
    inits = [
        _init("two", 2.0), _init("one", 1.0), _init("s1", 1.0),
        _init("w1", rng.standard_normal((hidden, k))), _init("w2", rng.standard_normal((hidden, classes))),
        _init("b1", rng.standard_normal(hidden) * 3), _init("m1", rng.standard_normal(hidden)),
        _init("qs", 0.5), _init("qz", 0.0), _init("qb", 1.0), _init("out_scale", 2.0),
    ]
    nodes = [
        helper.make_node("Mul", ["x", "two"], ["x2"], name="mul_in"),
        helper.make_node("Sub", ["x2", "one"], ["x3"], name="sub_in"),
        helper.make_node("BipolarQuant", ["x3", "s1"], ["xb"], domain=QONNX, name="in_quant"),
        helper.make_node("BipolarQuant", ["w1", "s1"], ["w1b"], domain=QONNX, name="w1_quant"),
        helper.make_node("Transpose", ["w1b"], ["w1t"], perm=[1, 0], name="w1_t"),
        helper.make_node("MatMul", ["xb", "w1t"], ["h1"], name="mm1"),
        helper.make_node("Add", ["h1", "b1"], ["h2"], name="bias1"),
        helper.make_node("Mul", ["h2", "m1"], ["h3"], name="scale1"),
        helper.make_node("Quant", ["h3", "qs", "qz", "qb"], ["a1"], domain=QONNX, name="act1",
                         signed=1, narrow=0, rounding_mode="ROUND"),
        helper.make_node("BipolarQuant", ["w2", "s1"], ["w2b"], domain=QONNX, name="w2_quant"),
        helper.make_node("MatMul", ["a1", "w2b"], ["o1"], name="mm2"),
        helper.make_node("Mul", ["o1", "out_scale"], ["y"], name="out_mul"),
    ]
    if extra:
        nodes = extra(nodes)
    graph = helper.make_graph(
        nodes, "handmade", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, classes])], inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid(QONNX, 1)])
    return model


def save(model, path):
    onnx.save(model, str(path))
    return path
