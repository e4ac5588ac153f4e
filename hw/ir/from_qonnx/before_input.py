"""Handlers before the input quantizer: scalar float ops, a flatten, and the quantizer itself."""

from dataclasses import replace

from ..graph import Flatten, Quantize, TensorType
from .activations import flattens
from .context import Context
from .state import PendingFlatten, State

__all__ = ["scalar_op", "reshape", "bipolar_quant", "quant"]


def scalar_op(ctx: Context, node, state: State) -> State:
    """``Mul``/``Add``/``Sub``/``Div`` by a constant scalar (e.g. ``2x - 1``): kept as float ops that
    the Quantize applies first."""
    op = node.op_type
    c, first = ctx.constant_operand(node, state.tensor)
    if c.size != 1:
        raise ctx.node_error(node, "before the input quantizer only scalar constants are supported")
    c = float(c.reshape(()))
    if first or op in ("Mul", "Add"):
        pre = ((op.lower(), c),)
    elif op == "Sub":  # c - x == (-x) + c exactly in float32
        pre = (("mul", -1.0), ("add", c))
    else:
        raise ctx.node_error(node, "divides a constant by the input; only x / c is supported")
    return replace(state, pre=state.pre + pre)


def reshape(ctx: Context, node, state: State) -> State:
    """``Reshape``/``Flatten``: a flatten waits for the quantizer (the IR quantizes (C, H, W))."""
    return replace(state, pending=PendingFlatten()) if flattens(ctx, node) else state


def bipolar_quant(ctx: Context, node, state: State) -> State:
    scale = ctx.scalar(node, node.input[1], "scale")
    out = TensorType(ctx.input_type.shape, "bits", 0, 1, scale)
    return _quantize(node, state, Quantize(node.name, out, node.output[0], pre=state.pre, bipolar=True, scale=scale))


def quant(ctx: Context, node, state: State) -> State:
    """A k-bit ``Quant``; a 1-bit signed one is bipolar, as qonnx executes it."""
    shape = ctx.input_type.shape
    scale = ctx.scalar(node, node.input[1], "scale")
    zp = ctx.scalar(node, node.input[2], "zero point")
    bits = ctx.scalar(node, node.input[3], "bit width")
    signed = bool(ctx.attr(node, "signed", 1))
    narrow = bool(ctx.attr(node, "narrow", 0))
    rounding = ctx.text_attr(node, "rounding_mode", "ROUND")
    if bits != int(bits) or not 1 <= bits <= 16:
        raise ctx.node_error(node, f"input bit width {bits:g} is not an integer from 1 to 16")
    if scale <= 0:
        raise ctx.node_error(node, f"input scale {scale} is not positive")
    if zp != int(zp):
        raise ctx.node_error(node, f"input zero point {zp} is not an integer")
    bits = int(bits)
    if bits == 1 and signed:
        q = Quantize(node.name, TensorType(shape, "bits", 0, 1, scale), node.output[0], pre=state.pre,
                     bipolar=True, scale=scale, zero_point=zp, bitwidth=1, signed=True)
        return _quantize(node, state, q)
    if signed:
        lo, hi = -(2 ** (bits - 1)) + int(narrow), 2 ** (bits - 1) - 1
    else:
        lo, hi = 0, 2**bits - 1 - int(narrow)
    lo, hi = lo - int(zp), hi - int(zp)
    if zp:
        raise ctx.node_error(node, f"input zero point {zp:g} is not supported; use zero point 0")
    q = Quantize(node.name, TensorType(shape, "int", lo, hi, scale), node.output[0], pre=state.pre,
                 bipolar=False, scale=scale, zero_point=zp, bitwidth=bits, signed=signed, narrow=narrow,
                 rounding=rounding.upper())
    return _quantize(node, state, q)


def _quantize(node, state: State, q: Quantize) -> State:
    """The quantizer, then a Flatten when the model flattens its input first, or takes a vector: the
    first dense layer reads a flat vector either way (its elements in the input's order)."""
    state = state.emit(q)
    if isinstance(state.pending, PendingFlatten) or len(q.out.shape) == 1:
        t = state.type
        flat = Flatten(f"{node.name}_flatten", TensorType((t.size,), t.kind, t.lo, t.hi, t.scale))
        state = replace(state.emit(flat), pending=None)
    return state
