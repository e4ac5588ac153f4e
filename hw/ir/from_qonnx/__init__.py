"""The one place QONNX is read: a QONNX file -> an un-streamlined IR :class:`~hw.ir.graph.Graph`.

The model is first put through qonnx's ``cleanup_model`` (shape inference, constant folding,
transposes folded into quantized initializers, readable names). Then the data path is walked from
the graph input as a single chain:

* before the input quantizer: scalar ``Mul``/``Add``/``Sub``/``Div`` (e.g. ``2x - 1``),
  ``Reshape``/``Flatten``, ``Dropout``/``Identity``;
* the input quantizer: ``Quant`` (k bits; a 1-bit signed ``Quant`` is bipolar, as qonnx executes it)
  or ``BipolarQuant``;
* then ``Gemm``/``MatMul``/``Conv`` whose weights are an initializer through ``BipolarQuant`` or a
  1-bit signed ``Quant`` (and ``Transpose``), ``Pad`` (constant) before a ``Conv``,
  ``BatchNormalization`` and per-channel or scalar ``Mul``/``Add``/``Sub``/``Div`` (also after the
  last layer), ``BipolarQuant`` / 1-bit ``Quant`` activations, ``MaxPool`` on binary activations,
  ``Reshape``/``Flatten``, ``Dropout``/``Identity``.

Anything else raises :class:`BitfoldError` naming the node, its op type and the supported set.

Modules: :mod:`.load` (file -> cleaned-up model), :mod:`.context` (a read-only view of the model:
initializers, attributes, shapes, producers and consumers, the label of error messages),
:mod:`.state` (the immutable state passed from node to node: the IR so far, the current tensor
type, the float ops before the input quantizer, a pending flatten or Pad), :mod:`.weights` (weight
subgraphs, evaluated by pure functions), the handlers (:mod:`.before_input`, :mod:`.layers`,
:mod:`.activations`), :mod:`.ops` (the table of handlers) and :mod:`.walk` (the walk itself).

Adding an op
------------
Write a handler ``def my_op(ctx, node, state) -> State`` that checks the node (raising
``ctx.node_error(node, "what is wrong")``) and returns the new state, usually ``state.emit(ir_node)``
or ``state.float_op(...)``; then add one entry ``"MyOp": Op(my_op)`` to :data:`.ops.OPS`. The entry
also says whether the op may come before the input quantizer (``before_input=``), follow a Pad
(``after_pad=True``) or read the data path as another operand than the first (``any_operand=True``).
``SUPPORTED_OPS`` and the error messages follow the table.
"""

from pathlib import Path

from ..graph import Graph
from .context import Context
from .load import load_qonnx
from .ops import SUPPORTED_OPS
from .walk import walk

__all__ = ["from_qonnx", "load_qonnx", "SUPPORTED_OPS"]


def from_qonnx(source, name: str = "") -> Graph:
    """Import a QONNX model as an un-streamlined IR graph (BatchNorm still float).

    ``source`` is a path, an ``onnx.ModelProto`` or a qonnx ``ModelWrapper``.
    """
    model = load_qonnx(source)
    label = str(source) if isinstance(source, str | Path) else (name or "model")
    return walk(Context.of(model, label))
