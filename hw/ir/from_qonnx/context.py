"""A read-only view of one cleaned-up QONNX model, as the handlers need it."""

from dataclasses import dataclass

import numpy as np
import onnx

from ...errors import BitfoldError
from ..graph import TensorType

__all__ = ["Context"]


@dataclass(frozen=True, eq=False)
class Context:
    """The model (a qonnx ``ModelWrapper`` after cleanup) and the facts read from it.

    ``label`` starts every error message (the file name, or the name given for an in-memory model);
    ``input_name``/``output_name`` are the graph's one data input and output, ``input_type`` the
    float type of the input (batch dimension dropped).
    """

    model: object
    label: str
    input_name: str
    output_name: str
    input_type: TensorType

    @classmethod
    def of(cls, model, label: str) -> "Context":
        g = model.graph
        inits = {i.name for i in g.initializer}
        inputs = [i for i in g.input if i.name not in inits]
        if len(inputs) != 1 or len(g.output) != 1:
            raise BitfoldError(
                f"{label}: expected one graph input and one output, found {len(inputs)} and {len(g.output)}"
            )
        name = inputs[0].name
        return cls(model, label, name, g.output[0].name, TensorType(_shape(model, label, name), "float"))

    # -- errors ------------------------------------------------------------------------------------
    def error(self, what: str) -> BitfoldError:
        return BitfoldError(f"{self.label}: {what}")

    def node_error(self, node, what: str) -> BitfoldError:
        return BitfoldError(f"{self.label}: node {node.name} ({node.op_type}): {what}")

    # -- tensors -----------------------------------------------------------------------------------
    def shape(self, tensor: str) -> tuple:
        """The inferred shape of ``tensor`` without the batch dimension."""
        return _shape(self.model, self.label, tensor)

    def const(self, tensor: str):
        """The initializer ``tensor`` as an array, or None when it is computed."""
        v = self.model.get_initializer(tensor)
        return None if v is None else np.asarray(v)

    def scalar(self, node, tensor: str, what: str) -> float:
        v = self.const(tensor)
        if v is None or v.size != 1:
            raise self.node_error(node, f"{what} must be a constant scalar")
        return float(v.reshape(()))

    def constant_operand(self, node, data: str):
        """For a binary elementwise ``node`` reading the data tensor ``data``: (its constant operand
        as float32, whether the data is the first operand)."""
        a, b = node.input[0], node.input[1]
        if a == data:
            c, first = self.const(b), True
        elif b == data:
            c, first = self.const(a), False
        else:
            raise self.node_error(node, "does not read the data path")
        if c is None:
            raise self.node_error(node, "both operands are computed tensors; bitfold needs one constant operand")
        return c.astype(np.float32), first

    # -- nodes -------------------------------------------------------------------------------------
    @staticmethod
    def attr(node, name: str, default=None):
        for a in node.attribute:
            if a.name == name:
                return onnx.helper.get_attribute_value(a)
        return default

    @staticmethod
    def text_attr(node, name: str, default: str) -> str:
        """A string attribute (ONNX stores them as bytes)."""
        v = Context.attr(node, name, default)
        return v.decode() if isinstance(v, bytes) else v

    def producer(self, tensor: str):
        return self.model.find_producer(tensor)

    def consumer(self, tensor: str):
        """The one node reading ``tensor`` (bitfold reads a single chain)."""
        consumers = self.model.find_consumers(tensor)
        if not consumers:
            raise self.error(f"tensor {tensor} is used by no node and is not the output")
        if len(consumers) > 1:
            names = ", ".join(f"{c.name} ({c.op_type})" for c in consumers)
            raise self.error(
                f"tensor {tensor} feeds {len(consumers)} nodes ({names}); bitfold handles a single chain of layers"
            )
        return consumers[0]

    @property
    def metadata(self) -> dict:
        return {p.key: p.value for p in self.model.model.metadata_props}


def _shape(model, label, tensor):
    shape = model.get_tensor_shape(tensor)
    if not shape:
        raise BitfoldError(f"{label}: tensor {tensor} has no inferred shape")
    return tuple(int(s) for s in shape[1:])
