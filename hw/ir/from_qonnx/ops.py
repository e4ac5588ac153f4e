"""The one table of ONNX op types the frontend reads, each with its handlers.

A handler is a function ``(ctx, node, state) -> state`` (:mod:`.context`, :mod:`.state`).
:data:`SUPPORTED_OPS` is this table's keys, in the order error messages list them.
"""

from collections.abc import Callable
from dataclasses import dataclass

from . import activations, before_input, layers
from .context import Context
from .state import State

__all__ = ["Op", "OPS", "SUPPORTED_OPS"]

Handler = Callable[[Context, object, State], State]


@dataclass(frozen=True)
class Op:
    """How the walk reads one op type on the data path.

    ``handler`` reads it after the input quantizer; ``before_input`` before it (None: refused there);
    ``after_pad``: it may follow a Pad (the Conv takes the padding, a pass-through op keeps it
    waiting); ``any_operand``: the data path may be any operand, not only the first (binary
    elementwise ops with a constant).
    """

    handler: Handler
    before_input: Handler | None = None
    after_pad: bool = False
    any_operand: bool = False


_PASS_THROUGH = Op(activations.pass_through, before_input=activations.pass_through, after_pad=True)
_ELEMENTWISE = Op(activations.elementwise, before_input=before_input.scalar_op, any_operand=True)
_RESHAPE = Op(activations.reshape, before_input=before_input.reshape)

OPS: dict[str, Op] = {
    "BatchNormalization": Op(activations.batch_norm),
    "BipolarQuant": Op(activations.bipolar_quant, before_input=before_input.bipolar_quant),
    "Conv": Op(layers.conv, after_pad=True),
    "Div": _ELEMENTWISE,
    "Dropout": _PASS_THROUGH,
    "Flatten": _RESHAPE,
    "Gemm": Op(layers.gemm),
    "Identity": _PASS_THROUGH,
    "MatMul": Op(layers.matmul),
    "MaxPool": Op(activations.max_pool),
    "Mul": _ELEMENTWISE,
    "Add": _ELEMENTWISE,
    "Pad": Op(layers.pad),
    "Quant": Op(activations.quant, before_input=before_input.quant),
    "Reshape": _RESHAPE,
    "Sub": _ELEMENTWISE,
    "Transpose": Op(activations.transpose),  # read in weight subgraphs (weights.py); refused on the data path
}

SUPPORTED_OPS = tuple(OPS)
