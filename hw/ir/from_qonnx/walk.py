"""The walk along the data path: one node after another, each read by its handler in :data:`OPS`."""

from dataclasses import replace

from ..graph import Conv, Dense, Graph, Quantize
from .context import Context
from .ops import OPS
from .state import PendingPad, State

__all__ = ["walk", "step"]


def walk(ctx: Context) -> Graph:
    """Read the model's data path, from its input to its output, as a single chain."""
    state = State(ctx.input_name, ctx.input_type)
    while state.tensor != ctx.output_name:
        node = ctx.consumer(state.tensor)
        state = replace(step(ctx, node, state), tensor=node.output[0])
    return _graph(ctx, state)


def step(ctx: Context, node, state: State) -> State:
    """Read one node that consumes ``state.tensor``."""
    op = OPS.get(node.op_type)
    if node.input[0] != state.tensor and not (op and op.any_operand):
        raise ctx.node_error(node, f"reads the data path ({state.tensor}) as an operand other than the first")
    if op is None:
        raise ctx.node_error(node, f"op type {node.op_type} is not supported; supported: {', '.join(OPS)}")
    if state.before_input:
        if op.before_input is None:
            raise ctx.node_error(
                node, "before the input quantizer only scalar Mul/Add/Sub/Div, Reshape/Flatten and "
                      "Dropout/Identity are supported"
            )
        return op.before_input(ctx, node, state)
    if isinstance(state.pending, PendingPad) and not op.after_pad:
        raise ctx.node_error(node, "follows a Pad; bitfold folds a Pad only into the Conv right after it")
    return op.handler(ctx, node, state)


def _graph(ctx: Context, state: State) -> Graph:
    if not state.nodes or not isinstance(state.nodes[0], Quantize):
        raise ctx.error(
            "no input quantizer: the model input must pass through a Quant or BipolarQuant before its first layer"
        )
    if isinstance(state.pending, PendingPad):
        raise ctx.error("a Pad at the end of the graph is not followed by a Conv")
    if not any(isinstance(n, Dense | Conv) for n in state.nodes):
        raise ctx.error("the model has no Gemm, MatMul or Conv layer")
    meta = {
        "source": ctx.label,
        "qonnx_input": ctx.input_name,
        "qonnx_output": ctx.output_name,
        "metadata_props": ctx.metadata,
    }
    return Graph(ctx.input_type, state.nodes, meta)
