"""Handlers between layers: float ops on accumulators and scores, binarization, pooling, reshaping."""

import numpy as np

from ..graph import Flatten, Kind, MaxPool, Sign, TensorType
from .context import Context
from .state import State

__all__ = ["pass_through", "batch_norm", "elementwise", "bipolar_quant", "quant", "max_pool", "reshape",
           "transpose", "flattens", "channel_param"]


def pass_through(ctx: Context, node, state: State) -> State:
    """``Dropout``/``Identity``: nothing to compute (a waiting Pad or flatten keeps waiting)."""
    return state


def batch_norm(ctx: Context, node, state: State) -> State:
    t = state.type
    if t.kind == Kind.BITS:
        raise ctx.node_error(node, "normalizes a binary activation; BatchNorm must follow a layer's accumulator")
    if len(t.shape) not in (1, 3):
        raise ctx.node_error(node, f"unexpected tensor shape {t.shape}")
    params = []
    for i, what in zip(range(1, 5), ("scale", "bias", "mean", "var"), strict=True):
        p = ctx.const(node.input[i])
        if p is None:
            raise ctx.node_error(node, f"{what} is not a constant")
        if p.shape != (t.shape[0],):
            raise ctx.node_error(node, f"{what} has shape {p.shape}, expected ({t.shape[0]},)")
        params.append(np.ascontiguousarray(p, dtype=np.float32))
    eps = float(np.float32(ctx.attr(node, "epsilon", 1e-5)))
    return state.float_op(node.name, "bn", tuple(params) + (eps,), node.output[0])


def elementwise(ctx: Context, node, state: State) -> State:
    """``Mul``/``Add``/``Sub``/``Div`` by a per-channel or scalar constant."""
    if state.type.kind == Kind.BITS:
        raise ctx.node_error(node, "scales a binary activation; only accumulators and scores may be scaled")
    c, first = ctx.constant_operand(node, state.tensor)
    op = node.op_type.lower()
    p = channel_param(ctx, node, c, state.type.shape)
    src = node.output[0]
    if first or op in ("mul", "add"):
        return state.float_op(node.name, op, p, src)
    if op == "sub":
        return state.float_op(node.name, "mul", np.asarray(-1.0, np.float32), src).float_op(node.name, "add", p, src)
    raise ctx.node_error(node, "divides a constant by the data; only x / c is supported")


def bipolar_quant(ctx: Context, node, state: State) -> State:
    return _sign(ctx, node, state, ctx.scalar(node, node.input[1], "scale"), ())


def quant(ctx: Context, node, state: State) -> State:
    """A hidden ``Quant``: only the 1-bit signed one (bipolar, as qonnx executes it)."""
    bits = ctx.scalar(node, node.input[3], "bit width")
    signed = bool(ctx.attr(node, "signed", 1))
    if bits != 1 or not signed:
        raise ctx.node_error(
            node, f"quantizes a hidden activation to {bits:g} bits ({'signed' if signed else 'unsigned'}); "
                  "bitfold supports binary activations after the input (BipolarQuant or a 1-bit "
                  "signed Quant)"
        )
    scale = ctx.scalar(node, node.input[1], "scale")
    zp = ctx.scalar(node, node.input[2], "zero point")
    ops = (("div", np.asarray(scale, np.float32)),)  # qonnx: x / scale + zp >= 0
    if zp:
        ops += (("add", np.asarray(zp, np.float32)),)
    return _sign(ctx, node, state, scale, ops)


def _sign(ctx: Context, node, state: State, scale: float, ops) -> State:
    if state.type.kind == Kind.BITS:
        raise ctx.node_error(node, "binarizes a tensor that is already binary")
    if scale <= 0:
        raise ctx.node_error(node, f"scale {scale} is not positive")
    for kind, p in ops:
        state = state.float_op(node.name, kind, p, node.output[0])
    return state.emit(Sign(node.name, TensorType(state.type.shape, "bits", 0, 1, scale), node.output[0]))


def max_pool(ctx: Context, node, state: State) -> State:
    if state.type.kind != Kind.BITS:
        raise ctx.node_error(
            node, "pools a non-binary tensor; bitfold pools binary activations (MaxPool after the sign)"
        )
    kernel = tuple(int(k) for k in ctx.attr(node, "kernel_shape"))
    stride = tuple(int(s) for s in ctx.attr(node, "strides", [1] * len(kernel)))
    if any(int(p) for p in ctx.attr(node, "pads", [0, 0, 0, 0])):
        raise ctx.node_error(node, "padded max-pooling is not supported")
    if int(ctx.attr(node, "ceil_mode", 0)):
        raise ctx.node_error(node, "ceil_mode=1 is not supported")
    if any(d != 1 for d in ctx.attr(node, "dilations", [1, 1])):
        raise ctx.node_error(node, "dilated max-pooling is not supported")
    if len(kernel) != 2:
        raise ctx.node_error(node, "only 2-D max-pooling is supported")
    out = TensorType(ctx.shape(node.output[0]), "bits", 0, 1, state.type.scale)
    return state.emit(MaxPool(node.name, out, node.output[0], kernel=kernel, stride=stride))


def reshape(ctx: Context, node, state: State) -> State:
    """``Reshape``/``Flatten`` to a vector (or to the same shape: nothing)."""
    if not flattens(ctx, node):
        return state
    t = state.type
    return state.emit(Flatten(node.name, TensorType((t.size,), t.kind, t.lo, t.hi, t.scale), node.output[0]))


def transpose(ctx: Context, node, state: State) -> State:
    raise ctx.node_error(node, "transposes the data path; only weights may be transposed")


def flattens(ctx: Context, node) -> bool:
    """True if this Reshape/Flatten flattens to (batch, N); False if it changes nothing."""
    out_shape = ctx.shape(node.output[0])
    in_shape = ctx.shape(node.input[0])
    if out_shape == in_shape:
        return False
    if len(out_shape) == 1 and out_shape[0] == int(np.prod(in_shape)):
        return True
    raise ctx.node_error(node, f"reshapes {in_shape} to {out_shape}; only flattening to a vector is supported")


def channel_param(ctx: Context, node, c, shape: tuple):
    """A constant broadcast along the channel axis only, over a tensor of ``shape`` -> array (C,)
    or scalar ()."""
    if c.size == 1:
        return np.asarray(c.reshape(()), dtype=np.float32)
    nd = len(shape)
    full = c.reshape((1,) * (nd + 1 - c.ndim) + c.shape) if c.ndim <= nd + 1 else c
    chans = shape[0]
    expect = (1, chans) + (1,) * (nd - 1)
    if full.shape != expect:
        raise ctx.node_error(
            node, f"constant of shape {tuple(c.shape)} does not broadcast per channel over a "
                  f"tensor of shape {shape}"
        )
    return np.ascontiguousarray(full.reshape(chans), dtype=np.float32)
