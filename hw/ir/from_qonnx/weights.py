"""Evaluating a layer's weight subgraph: an initializer through quantizers and transposes.

Pure functions of the model: they return ``(values, scale)`` and change nothing.

* ``values``: uint8 bits (1 means +1) for binary weights, int64 codes for integer kernels;
* ``scale``: a float for one scale per tensor, else an array along the output channels.
"""

import numpy as np

from .context import Context

__all__ = ["read_weights"]

_PASS_THROUGH = ("Dropout", "Identity")


def read_weights(ctx: Context, node, tensor: str):
    """The weights ``tensor`` of layer ``node``, walking back from it to its initializer."""
    chain = []
    t = tensor
    while ctx.const(t) is None:
        prod = ctx.producer(t)
        if prod is None:
            raise ctx.node_error(node, f"weight tensor {t} is neither an initializer nor computed from one")
        chain.append(prod)
        t = prod.input[0]
    w = ctx.const(t).astype(np.float32)
    scale = None
    for p in reversed(chain):
        if p.op_type == "Transpose":
            perm = ctx.attr(p, "perm", list(reversed(range(w.ndim))))
            w = w.transpose(perm)
            if scale is not None and np.ndim(scale):
                scale = np.transpose(scale, perm)
        elif p.op_type in _PASS_THROUGH:
            continue
        elif p.op_type == "BipolarQuant":
            w, scale = binary_weights(ctx, node, p, w, ctx.const(p.input[1]), 0.0)
        elif p.op_type == "Quant":
            bits = ctx.scalar(p, p.input[3], "bit width")
            signed = int(ctx.attr(p, "signed", 1))
            s = ctx.const(p.input[1])
            zp = ctx.scalar(p, p.input[2], "zero point")
            if bits == 1 and signed:
                w, scale = binary_weights(ctx, node, p, w, s, zp)
            else:
                w, scale = integer_weights(ctx, node, p, w, s, zp, bits, signed)
        else:
            raise ctx.node_error(node, f"weights pass through {p.name} ({p.op_type}), which is not supported")
    if scale is None:
        if np.array_equal(w, np.rint(w)) and np.abs(w).max(initial=0) > 1:
            return w.astype(np.int64), 1.0  # an integer kernel given as plain numbers (jet layers)
        raise ctx.node_error(node, "weights are not binarized (no BipolarQuant or 1-bit Quant on them)")
    return w, scale


def binary_weights(ctx: Context, node, q, w, s, zp):
    """Weights ``w`` through the bipolar quantizer ``q`` (scale ``s``, zero point ``zp``) -> bits."""
    if s is None:
        raise ctx.node_error(node, f"scale of weight quantizer {q.name} is not a constant")
    s = np.asarray(s, dtype=np.float32)
    if np.any(s <= 0):
        raise ctx.node_error(node, f"weight quantizer {q.name} has a non-positive scale")
    bits = ((w / s + np.float32(zp)) >= 0).astype(np.uint8)
    if s.size == 1:
        return bits, float(s.reshape(()))
    return bits, s.reshape(s.shape[0] if s.shape[0] == w.shape[0] else -1)


def integer_weights(ctx: Context, node, q, w, s, zp, bits, signed):
    """Weights ``w`` through the k-bit quantizer ``q`` -> integer codes (kept only where a layer can
    use them: jet kernels)."""
    from qonnx.custom_op.general.quant import quant

    s = np.asarray(s, dtype=np.float32)
    if s.size != 1 or zp != 0:
        raise ctx.node_error(node, f"k-bit weights of {q.name} need one scale and zero point 0")
    narrow = bool(ctx.attr(q, "narrow", 0))
    rounding = ctx.text_attr(q, "rounding_mode", "ROUND")
    codes = quant(w, s, np.float32(0), np.float32(bits), signed, narrow, rounding) / s
    return np.rint(codes).astype(np.int64), float(s.reshape(()))
