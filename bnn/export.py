"""QONNX export of a trained zoo model, with BatchNorm thresholds centred between reachable values.

``center_thresholds`` is why torch, QONNX and the integer reference agree bit for bit: a BatchNorm
followed by a sign decides ``acc >= t`` for a real threshold t, but torch, onnxruntime and numpy
evaluate BatchNorm with different float rounding, so an accumulator value lying within rounding
of t could binarize differently in each. Moving t to the midpoint between the two reachable
accumulator values that bracket it (by adjusting the BatchNorm bias) changes no decision on any
reachable value and leaves a margin of half a step, far above float error. The reachable values
come from :func:`hw.ir.ranges.acc_range`, the same definition the threshold fold proves against.
"""

import contextlib
import io
import json
import logging
import tempfile
from pathlib import Path

import numpy as np
import onnx
import torch
import torch.nn as nn

from hw.io import atomic_write_bytes
from hw.ir.ranges import acc_range, int_kernel_range

from .layers import BinaryAct, BinaryConv2d, BinaryLinear, InputQuant, JetConv2d
from .quant import input_scale

__all__ = ["center_thresholds", "export_qonnx_model", "METADATA_KEY"]

METADATA_KEY = "bitfold.config"


def _binary_layers_with_bn(model):
    """Yield ``(layer, batchnorm, in_kind, in_lo, in_hi, in_scale)`` for every binary layer whose
    accumulator goes through a BatchNorm into a binary activation, in forward order."""
    inside_input = {id(c) for m in model.modules() if isinstance(m, InputQuant) for c in m.modules()}
    leaves = [m for m in model.modules() if isinstance(m, InputQuant) or id(m) not in inside_input]
    kind, lo, hi, scale = "bits", 0, 1, 1.0
    pending = None
    for m in leaves:
        if isinstance(m, InputQuant):
            if m.bits == 1:
                kind, lo, hi, scale = "bits", 0, 1, 1.0
            elif m.signed:
                kind, lo, hi = "int", -(2 ** (m.bits - 1)), 2 ** (m.bits - 1) - 1
                scale = input_scale(m.bits, True)
            else:
                kind, lo, hi, scale = "int", 0, 2**m.bits - 1, input_scale(m.bits, False)
        elif isinstance(m, BinaryLinear | BinaryConv2d | JetConv2d):
            pending = (m, kind, lo, hi, scale)
        elif isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d) and pending is not None:
            layer, k, a, b, s = pending
            yield layer, m, k, a, b, s
            pending = None
        elif isinstance(m, BinaryAct):
            kind, lo, hi, scale = "bits", 0, 1, 1.0


@torch.no_grad()
def center_thresholds(model) -> int:
    """Move every BatchNorm + sign threshold of ``model`` to the midpoint between reachable
    accumulator values (in place). Returns the number of channels adjusted."""
    changed = 0
    for layer, bn, kind, lo_in, hi_in, s in _binary_layers_with_bn(model):
        if isinstance(layer, JetConv2d):
            lo, hi, step = int_kernel_range(layer.integer_kernels(), kind, lo_in, hi_in)
        else:
            lo, hi, step = acc_range(layer.weight_bits(), kind, lo_in, hi_in)
        if isinstance(layer, BinaryConv2d | JetConv2d) and layer.pad and kind == "int":
            lo, hi = np.minimum(lo, 0), np.maximum(hi, 0)
        gamma = bn.weight.double().numpy()
        beta = bn.bias.double().numpy()
        mean = bn.running_mean.double().numpy()
        std = np.sqrt(bn.running_var.double().numpy() + bn.eps)
        alpha = gamma / std
        new_beta = beta.copy()
        for c in range(len(alpha)):
            if alpha[c] == 0:
                new_beta[c] = 1.0 if beta[c] >= 0 else -1.0
                continue
            t = (mean[c] - beta[c] / alpha[c]) / s  # sign(alpha * (s * acc - mean) + beta) flips here
            if alpha[c] > 0:  # output +1 iff acc >= t
                a_hi = lo[c] + step * np.ceil((t - lo[c]) / step)
                mid = a_hi - step / 2
            else:  # output +1 iff acc <= t
                a_lo = lo[c] + step * np.floor((t - lo[c]) / step)
                mid = a_lo + step / 2
            mid = min(max(mid, lo[c] - step / 2), hi[c] + step / 2)
            new_beta[c] = alpha[c] * (mean[c] - s * mid)
        changed += int(np.sum(new_beta != beta))
        bn.bias.copy_(torch.from_numpy(new_beta).to(bn.bias.dtype))
    return changed


def export_qonnx_model(model, in_shape, path, config: dict | None = None) -> Path:
    """Export ``model`` (eval mode) to a cleaned-up QONNX file at ``path``, atomically.

    The model's config is stored as JSON in the ONNX metadata under ``bitfold.config``.
    """
    from brevitas.export import export_qonnx
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.util.cleanup import cleanup_model

    path = Path(path)
    model = model.eval()
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.onnx"
        # TorchScript, not torch.export (dynamo): the same IR, up to the layer names (MatMul_i and
        # Flatten_i where dynamo gives Gemm_i and Reshape_i), in a tenth of the time (cnv-mnist:
        # 1 s against 11 s); import takes what either writes (tests/bnn/test_export.py). The
        # exporter narrates on stdout; keep `--json` output clean.
        with contextlib.redirect_stdout(io.StringIO()):
            export_qonnx(model, input_t=torch.zeros(1, *in_shape), export_path=str(raw), dynamo=False)
        wrapped = cleanup_model(ModelWrapper(str(raw)))
    proto = wrapped.model
    del proto.metadata_props[:]
    if config is not None:
        onnx.helper.set_model_props(proto, {METADATA_KEY: json.dumps(config, sort_keys=True)})
    atomic_write_bytes(path, proto.SerializeToString())
    return path
