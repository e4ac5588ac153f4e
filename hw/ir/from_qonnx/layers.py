"""Handlers of the layers: ``Gemm``/``MatMul`` (Dense), ``Conv`` (Conv or JetConv), and the ``Pad``
folded into the Conv after it."""

from dataclasses import replace

import numpy as np

from ..graph import Conv, Dense, JetConv, Kind, TensorType
from ..jets import decompose
from ..ranges import acc_range, int_kernel_range
from .activations import channel_param
from .context import Context
from .state import PendingPad, State
from .weights import read_weights

__all__ = ["gemm", "matmul", "conv", "pad"]


def gemm(ctx: Context, node, state: State) -> State:
    _need_binary_or_int(ctx, node, state)
    if ctx.attr(node, "transA", 0):
        raise ctx.node_error(node, "transA=1 is not supported")
    _need_vector(ctx, node, state)
    w, scale = read_weights(ctx, node, node.input[1])
    if not ctx.attr(node, "transB", 0):
        w = w.T
        scale = scale.T if np.ndim(scale) else scale
    alpha = float(ctx.attr(node, "alpha", 1.0))
    return _dense(ctx, node, state, w, scale, alpha, _bias(ctx, node, float(ctx.attr(node, "beta", 1.0))))


def matmul(ctx: Context, node, state: State) -> State:
    _need_binary_or_int(ctx, node, state)
    _need_vector(ctx, node, state)
    w, scale = read_weights(ctx, node, node.input[1])
    return _dense(ctx, node, state, w.T, scale.T if np.ndim(scale) else scale, 1.0, None)


def conv(ctx: Context, node, state: State) -> State:
    """A binary-weight Conv; an integer kernel is a jet layer (:func:`_jet_conv`). Takes a waiting
    Pad's padding."""
    _need_binary_or_int(ctx, node, state)
    t = state.type
    if len(t.shape) != 3:
        raise ctx.node_error(node, f"reads a tensor of shape {t.shape}; a Conv needs (C, H, W)")
    if int(ctx.attr(node, "group", 1)) != 1:
        raise ctx.node_error(node, "grouped convolution is not supported (group must be 1)")
    if any(d != 1 for d in ctx.attr(node, "dilations", [1, 1])):
        raise ctx.node_error(node, "dilated convolution is not supported")
    if ctx.text_attr(node, "auto_pad", "NOTSET") != "NOTSET":
        raise ctx.node_error(node, "auto_pad is not supported; give explicit pads")
    w, scale = read_weights(ctx, node, node.input[1])
    if w.dtype != np.uint8:  # integer kernels: a jet feature layer, or nothing bitfold can build
        return _jet_conv(ctx, node, state, w, scale)
    w = np.ascontiguousarray(w, dtype=np.uint8)
    if w.ndim != 4 or w.shape[1] != t.shape[0]:
        raise ctx.node_error(node, f"weights of shape {w.shape} do not match {t.shape[0]} input channels")
    stride = tuple(int(s) for s in ctx.attr(node, "strides", [1, 1]))
    top, left, bottom, right = (int(p) for p in ctx.attr(node, "pads", [0, 0, 0, 0]))
    pads, pad_value = (top, left, bottom, right), 0
    if any(pads) and t.kind == Kind.BITS:
        raise ctx.node_error(
            node, "zero padding on a binary input would put a 0 into an XNOR datapath; pad with "
                  "-1 or +1 by a constant Pad before the Conv (bnn.layers.BinaryConv2d does)"
        )
    if isinstance(state.pending, PendingPad):
        if any(pads):
            raise ctx.node_error(node, "has both a Pad before it and pads of its own")
        pads, pad_value = state.pending.pads, state.pending.value
        state = replace(state, pending=None)
    out = _layer_out(state, w, scale, ctx.shape(node.output[0]))
    state = state.emit(Conv(node.name, out, node.output[0], weights=w, stride=stride, pads=pads, pad_value=pad_value))
    return _after_layer(ctx, node, state, scale, 1.0, _bias(ctx, node))


def _jet_conv(ctx: Context, node, state: State, w, scale) -> State:
    t = state.type
    if w.ndim != 4 or w.shape[2:] != (3, 3) or w.shape[1] != t.shape[0]:
        raise ctx.node_error(node, f"integer weights of shape {w.shape}: bitfold builds integer kernels only as "
                                   "3x3 jet features (bnn.layers.JetConv2d)")
    coeffs = decompose(w)
    if coeffs is None or np.any(np.abs(coeffs) > 1):
        bad = np.argwhere(np.abs(coeffs) > 1)[0] if coeffs is not None else None
        where = f" (output {bad[0]}, input {bad[1]})" if bad is not None else ""
        raise ctx.node_error(node, f"integer kernel{where} is not a -1/0/+1 combination of the nine jets; bitfold "
                                   "builds integer kernels only as jet features (bnn.layers.JetConv2d)")
    if np.ndim(scale):
        raise ctx.node_error(node, "jet kernels need one weight scale per tensor")
    stride = tuple(int(s) for s in ctx.attr(node, "strides", [1, 1]))
    pads, pad_value = tuple(int(p) for p in ctx.attr(node, "pads", [0, 0, 0, 0])), 0
    if any(pads) and t.kind == Kind.BITS:
        raise ctx.node_error(node, "zero padding on a binary input would put a 0 into the jet datapath; pad with "
                                   "-1 or +1 by a constant Pad before the Conv")
    if isinstance(state.pending, PendingPad):
        pads, pad_value = state.pending.pads, state.pending.value
        state = replace(state, pending=None)
    lo, hi, _ = int_kernel_range(w.reshape(len(w), -1), t.kind, t.lo, t.hi)
    out = TensorType(ctx.shape(node.output[0]), "int", int(lo.min()), int(hi.max()), t.scale * scale)
    state = state.emit(JetConv(node.name, out, node.output[0], coeffs=coeffs.astype(np.int8), stride=stride,
                               pads=pads, pad_value=pad_value))
    return _after_layer(ctx, node, state, scale, 1.0, _bias(ctx, node))


def pad(ctx: Context, node, state: State) -> State:
    """A constant ``Pad`` of H and W: waits for the Conv after it, with the padding as a bit or code."""
    t = state.type
    if ctx.text_attr(node, "mode", "constant") != "constant":
        raise ctx.node_error(node, "only constant padding is supported")
    pads = ctx.const(node.input[1])
    if pads is None or len(t.shape) != 3 or pads.size != 8:
        raise ctx.node_error(node, "pads must be a constant for a (N, C, H, W) tensor")
    pads = [int(p) for p in pads]
    if pads[0] or pads[1] or pads[4] or pads[5]:
        raise ctx.node_error(node, "pads the batch or channel axis; only H and W may be padded")
    value = 0.0
    if len(node.input) > 2 and node.input[2]:
        value = ctx.scalar(node, node.input[2], "pad value")
    if t.kind == Kind.BITS:
        if value not in (t.scale, -t.scale):
            raise ctx.node_error(
                node, f"pads a binary tensor with {value:g}; only -1 or +1 (times the scale "
                      f"{t.scale:g}) keep the datapath binary"
            )
        code = int(value > 0)
    elif t.kind == Kind.INT:
        code = value / t.scale
        if code != int(code) or not t.lo <= code <= t.hi:
            raise ctx.node_error(node, f"pad value {value:g} is not a code of the quantized input")
        code = int(code)
    else:
        raise ctx.node_error(node, "pads a float tensor; pad the quantized tensor instead")
    return replace(state, pending=PendingPad((pads[2], pads[3], pads[6], pads[7]), code))


# -- shared by the layers ----------------------------------------------------------------------------
def _need_binary_or_int(ctx: Context, node, state: State):
    if state.type.kind == Kind.FLOAT:
        raise ctx.node_error(
            node, "reads a float tensor; a binary-weight layer needs a binary activation or "
                  "quantized integer input (a BipolarQuant or Quant before it)"
        )


def _need_vector(ctx: Context, node, state: State):
    if len(state.type.shape) != 1:
        raise ctx.node_error(node, f"reads a tensor of shape {state.type.shape}; flatten it first")


def _dense(ctx: Context, node, state: State, w, scale, alpha, bias) -> State:
    if w.dtype != np.uint8:
        raise ctx.node_error(node, "weights are k-bit integers; bitfold needs binary weights in a dense layer "
                                   "(integer kernels are built only as 3x3 jet features)")
    w = np.ascontiguousarray(w, dtype=np.uint8)
    if w.ndim != 2 or w.shape[1] != state.type.size:
        raise ctx.node_error(node, f"weights of shape {w.shape} do not match an input of size {state.type.size}")
    out = _layer_out(state, w, scale, (w.shape[0],))
    state = state.emit(Dense(node.name, out, node.output[0], weights=w))
    return _after_layer(ctx, node, state, scale, alpha, bias)


def _bias(ctx: Context, node, beta=1.0):
    """The layer's bias input (index 2) times ``beta``, or None."""
    if len(node.input) <= 2 or not node.input[2]:
        return None
    b = ctx.const(node.input[2])
    if b is None:
        raise ctx.node_error(node, "bias is not a constant")
    return b.astype(np.float32) * np.float32(beta)


def _layer_out(state: State, weights, scale, channel_shape) -> TensorType:
    """The accumulator type of a binary-weight layer reading ``state.type``."""
    t = state.type
    lo, hi, _ = acc_range(weights, t.kind, t.lo, t.hi)
    acc_scale = t.scale * (scale if np.ndim(scale) == 0 else 1.0)
    return TensorType(channel_shape, "int", int(lo.min()), int(hi.max()), acc_scale)


def _after_layer(ctx: Context, node, state: State, scale, alpha, bias) -> State:
    """Per-channel weight scale, Gemm alpha and bias become float ops after the accumulator."""
    src = node.output[0]
    if np.ndim(scale):
        state = state.float_op(node.name, "mul", np.asarray(scale, np.float32), src)
    if alpha != 1.0:
        state = state.float_op(node.name, "mul", np.asarray(alpha, np.float32), src)
    if bias is not None and np.any(bias != 0):
        state = state.float_op(node.name, "add", channel_param(ctx, node, bias, state.type.shape), src)
    return state
