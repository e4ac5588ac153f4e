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
"""

from pathlib import Path

import numpy as np
import onnx

from ..errors import BitfoldError
from .graph import Conv, Dense, Flatten, FloatOps, Graph, MaxPool, Quantize, Sign, TensorType
from .ranges import acc_range

__all__ = ["from_qonnx", "load_qonnx", "SUPPORTED_OPS"]

SUPPORTED_OPS = (
    "BatchNormalization", "BipolarQuant", "Conv", "Div", "Dropout", "Flatten", "Gemm", "Identity",
    "MatMul", "MaxPool", "Mul", "Add", "Pad", "Quant", "Reshape", "Sub", "Transpose",
)
_PASS_THROUGH = ("Dropout", "Identity")
_ARITH = ("Mul", "Add", "Sub", "Div")


def load_qonnx(source):
    """Read a QONNX file (or take a ``ModelWrapper`` / ``ModelProto``) and run qonnx's cleanup.

    Raises :class:`BitfoldError` for a missing, truncated or invalid file.
    """
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.util.cleanup import cleanup_model

    if isinstance(source, ModelWrapper):
        model = ModelWrapper(onnx.ModelProto.FromString(source.model.SerializeToString()))
    elif isinstance(source, onnx.ModelProto):
        model = ModelWrapper(onnx.ModelProto.FromString(source.SerializeToString()))
    else:
        path = Path(source)
        if not path.exists():
            raise BitfoldError(f"{path}: no such file")
        try:
            proto = onnx.load(str(path))
        except Exception as e:  # protobuf's DecodeError, or an OSError
            raise BitfoldError(f"{path}: not a readable ONNX file (truncated or corrupt: {e})") from None
        if not proto.graph.node:
            raise BitfoldError(f"{path}: the ONNX graph has no nodes")
        model = ModelWrapper(proto)
    try:
        return cleanup_model(model)
    except Exception as e:
        where = source if isinstance(source, str | Path) else "model"
        raise BitfoldError(f"{where}: qonnx could not clean up the graph ({type(e).__name__}: {e})") from None


def from_qonnx(source, name: str = "") -> Graph:
    """Import a QONNX model as an un-streamlined IR graph (BatchNorm still float).

    ``source`` is a path, an ``onnx.ModelProto`` or a qonnx ``ModelWrapper``.
    """
    model = load_qonnx(source)
    label = str(source) if isinstance(source, str | Path) else (name or "model")
    return _Walker(model, label).walk()


class _Walker:
    def __init__(self, model, label):
        self.m = model
        self.label = label
        g = model.graph
        inits = {i.name for i in g.initializer}
        inputs = [i for i in g.input if i.name not in inits]
        if len(inputs) != 1 or len(g.output) != 1:
            raise BitfoldError(
                f"{label}: expected one graph input and one output, found {len(inputs)} and {len(g.output)}"
            )
        self.in_name = inputs[0].name
        self.out_name = g.output[0].name
        self.nodes = []
        self.pre = []
        self.pending_flatten = False
        self.pending_pad = None
        self.t = TensorType(self._shape(self.in_name), "float")
        self.input_type = self.t

    # -- helpers -------------------------------------------------------------------------------
    def _shape(self, tensor):
        shape = self.m.get_tensor_shape(tensor)
        if not shape:
            raise BitfoldError(f"{self.label}: tensor {tensor} has no inferred shape")
        return tuple(int(s) for s in shape[1:])

    def _err(self, node, what):
        return BitfoldError(f"{self.label}: node {node.name} ({node.op_type}): {what}")

    def _const(self, tensor):
        v = self.m.get_initializer(tensor)
        return None if v is None else np.asarray(v)

    def _attr(self, node, name, default=None):
        for a in node.attribute:
            if a.name == name:
                return onnx.helper.get_attribute_value(a)
        return default

    def _scalar(self, node, tensor, what):
        v = self._const(tensor)
        if v is None or v.size != 1:
            raise self._err(node, f"{what} must be a constant scalar")
        return float(v.reshape(()))

    def _data_and_const(self, node):
        """For a binary elementwise node on the data path: (constant, data is first operand)."""
        a, b = node.input[0], node.input[1]
        if a == self.cur:
            c = self._const(b)
            first = True
        elif b == self.cur:
            c = self._const(a)
            first = False
        else:
            raise self._err(node, "does not read the data path")
        if c is None:
            raise self._err(node, "both operands are computed tensors; bitfold needs one constant operand")
        return c.astype(np.float32), first

    def _channel_param(self, node, c):
        """A constant broadcast along the channel axis only -> array (C,) or scalar ()."""
        if c.size == 1:
            return np.asarray(c.reshape(()), dtype=np.float32)
        nd = len(self.t.shape)
        full = c.reshape((1,) * (nd + 1 - c.ndim) + c.shape) if c.ndim <= nd + 1 else c
        chans = self.t.shape[0]
        expect = (1, chans) + (1,) * (nd - 1)
        if full.shape != expect:
            raise self._err(
                node, f"constant of shape {tuple(c.shape)} does not broadcast per channel over a "
                      f"tensor of shape {self.t.shape}"
            )
        return np.ascontiguousarray(full.reshape(chans), dtype=np.float32)

    def _weights(self, node, tensor):
        """Evaluate a weight subgraph -> (bits array, scale scalar or per-output-channel array)."""
        chain = []
        t = tensor
        while self._const(t) is None:
            prod = self.m.find_producer(t)
            if prod is None:
                raise self._err(node, f"weight tensor {t} is neither an initializer nor computed from one")
            chain.append(prod)
            t = prod.input[0]
        w = self._const(t).astype(np.float32)
        scale = None
        for p in reversed(chain):
            if p.op_type == "Transpose":
                perm = self._attr(p, "perm", list(reversed(range(w.ndim))))
                w = w.transpose(perm)
                if scale is not None and np.ndim(scale):
                    scale = np.transpose(scale, perm)
            elif p.op_type in _PASS_THROUGH:
                continue
            elif p.op_type == "BipolarQuant":
                s = self._const(p.input[1])
                w, scale = self._binarize_weights(node, p, w, s, 0.0)
            elif p.op_type == "Quant":
                bits = self._scalar(p, p.input[3], "bit width")
                signed = int(self._attr(p, "signed", 1))
                s = self._const(p.input[1])
                zp = self._scalar(p, p.input[2], "zero point")
                if bits == 1 and signed:
                    w, scale = self._binarize_weights(node, p, w, s, zp)
                else:
                    w, scale = self._integer_weights(node, p, w, s, zp, bits, signed)
            else:
                raise self._err(node, f"weights pass through {p.name} ({p.op_type}), which is not supported")
        if scale is None:
            if np.array_equal(w, np.rint(w)) and np.abs(w).max(initial=0) > 1:
                return w.astype(np.int64), 1.0  # an integer kernel given as plain numbers (jet layers)
            raise self._err(node, "weights are not binarized (no BipolarQuant or 1-bit Quant on them)")
        return w, scale

    def _integer_weights(self, node, q, w, s, zp, bits, signed):
        """k-bit weights: the integer codes (kept only where a layer can use them: jet kernels)."""
        from qonnx.custom_op.general.quant import quant

        s = np.asarray(s, dtype=np.float32)
        if s.size != 1 or zp != 0:
            raise self._err(node, f"k-bit weights of {q.name} need one scale and zero point 0")
        narrow = bool(self._attr(q, "narrow", 0))
        rounding = self._attr(q, "rounding_mode", "ROUND")
        rounding = rounding.decode() if isinstance(rounding, bytes) else rounding
        codes = quant(w, s, np.float32(0), np.float32(bits), signed, narrow, rounding) / s
        self._int_weight_bits = int(bits)
        return np.rint(codes).astype(np.int64), float(s.reshape(()))

    def _binarize_weights(self, node, q, w, s, zp):
        if s is None:
            raise self._err(node, f"scale of weight quantizer {q.name} is not a constant")
        s = np.asarray(s, dtype=np.float32)
        if np.any(s <= 0):
            raise self._err(node, f"weight quantizer {q.name} has a non-positive scale")
        bits = ((w / s + np.float32(zp)) >= 0).astype(np.uint8)
        if s.size == 1:
            return bits, float(s.reshape(()))
        return bits, s.reshape(s.shape[0] if s.shape[0] == w.shape[0] else -1)

    def _emit(self, node):
        self.nodes.append(node)
        self.t = node.out

    def _float_op(self, node, kind, params, src):
        """Append (or merge into the previous) FloatOps node."""
        if self.nodes and isinstance(self.nodes[-1], FloatOps) and self.t.kind == "float":
            last = self.nodes.pop()
            self.t = self.nodes[-1].out if self.nodes else self.input_type
            ops = last.ops + ((kind, params),)
            name = last.name
        else:
            ops = ((kind, params),)
            name = node.name
            if any(n.name == name for n in self.nodes):  # ops split off a layer (bias, alpha, scale)
                name = f"{name}_ops"
        self._emit(FloatOps(name, TensorType(self.t.shape, "float"), src, ops=ops))

    # -- the walk --------------------------------------------------------------------------------
    def walk(self) -> Graph:
        self.cur = self.in_name
        while self.cur != self.out_name:
            consumers = self.m.find_consumers(self.cur)
            if not consumers:
                raise BitfoldError(f"{self.label}: tensor {self.cur} is used by no node and is not the output")
            if len(consumers) > 1:
                names = ", ".join(f"{c.name} ({c.op_type})" for c in consumers)
                raise BitfoldError(
                    f"{self.label}: tensor {self.cur} feeds {len(consumers)} nodes ({names}); "
                    "bitfold handles a single chain of layers"
                )
            node = consumers[0]
            if node.input[0] != self.cur and node.op_type not in _ARITH:
                raise self._err(node, f"reads the data path ({self.cur}) as an operand other than the first")
            self._visit(node)
            self.cur = node.output[0]
        if not self.nodes or not isinstance(self.nodes[0], Quantize):
            raise BitfoldError(
                f"{self.label}: no input quantizer: the model input must pass through a Quant or "
                "BipolarQuant before its first layer"
            )
        if self.pending_pad is not None:
            raise BitfoldError(f"{self.label}: a Pad at the end of the graph is not followed by a Conv")
        if not any(isinstance(n, Dense | Conv) for n in self.nodes):
            raise BitfoldError(f"{self.label}: the model has no Gemm, MatMul or Conv layer")
        meta = {
            "source": self.label,
            "qonnx_input": self.in_name,
            "qonnx_output": self.out_name,
            "metadata_props": {p.key: p.value for p in self.m.model.metadata_props},
        }
        return Graph(self.input_type, tuple(self.nodes), meta)

    def _visit(self, node):
        op = node.op_type
        if op not in SUPPORTED_OPS:
            raise self._err(node, f"op type {op} is not supported; supported: {', '.join(SUPPORTED_OPS)}")
        if op in _PASS_THROUGH:
            return
        if not self.nodes:
            return self._visit_pre(node)
        if self.pending_pad is not None and op != "Conv":
            raise self._err(node, "follows a Pad; bitfold folds a Pad only into the Conv right after it")
        handler = getattr(self, f"_on_{op}", None)
        if handler is None:  # Mul, Add, Sub, Div
            return self._on_arith(node)
        return handler(node)

    def _visit_pre(self, node):
        op = node.op_type
        if op in _ARITH:
            c, first = self._data_and_const(node)
            if c.size != 1:
                raise self._err(node, "before the input quantizer only scalar constants are supported")
            c = float(c.reshape(()))
            if first:
                self.pre.append((op.lower(), c))
            elif op in ("Mul", "Add"):
                self.pre.append((op.lower(), c))
            elif op == "Sub":  # c - x == (-x) + c exactly in float32
                self.pre += [("mul", -1.0), ("add", c)]
            else:
                raise self._err(node, "divides a constant by the input; only x / c is supported")
            return None
        if op in ("Reshape", "Flatten"):
            self.pending_flatten = self._flatten_kind(node) or self.pending_flatten
            return None
        if op in ("Quant", "BipolarQuant"):
            return self._input_quant(node)
        raise self._err(
            node, "before the input quantizer only scalar Mul/Add/Sub/Div, Reshape/Flatten and "
                  "Dropout/Identity are supported"
        )

    def _input_quant(self, node):
        shape = self.input_type.shape
        out = node.output[0]
        if node.op_type == "BipolarQuant":
            scale = self._scalar(node, node.input[1], "scale")
            q = Quantize(node.name, TensorType(shape, "bits", 0, 1, scale), out, pre=tuple(self.pre),
                         bipolar=True, scale=scale)
        else:
            scale = self._scalar(node, node.input[1], "scale")
            zp = self._scalar(node, node.input[2], "zero point")
            bits = self._scalar(node, node.input[3], "bit width")
            signed = bool(self._attr(node, "signed", 1))
            narrow = bool(self._attr(node, "narrow", 0))
            rounding = self._attr(node, "rounding_mode", "ROUND")
            rounding = rounding.decode() if isinstance(rounding, bytes) else rounding
            if bits != int(bits) or not 1 <= bits <= 16:
                raise self._err(node, f"input bit width {bits:g} is not an integer from 1 to 16")
            if scale <= 0:
                raise self._err(node, f"input scale {scale} is not positive")
            if zp != int(zp):
                raise self._err(node, f"input zero point {zp} is not an integer")
            bits = int(bits)
            if bits == 1 and signed:  # qonnx executes a 1-bit signed Quant as bipolar
                q = Quantize(node.name, TensorType(shape, "bits", 0, 1, scale), out, pre=tuple(self.pre),
                             bipolar=True, scale=scale, zero_point=zp, bitwidth=1, signed=True)
            else:
                if signed:
                    lo, hi = -(2 ** (bits - 1)) + int(narrow), 2 ** (bits - 1) - 1
                else:
                    lo, hi = 0, 2**bits - 1 - int(narrow)
                lo, hi = lo - int(zp), hi - int(zp)
                if zp:
                    raise self._err(node, f"input zero point {zp:g} is not supported; use zero point 0")
                q = Quantize(node.name, TensorType(shape, "int", lo, hi, scale), out, pre=tuple(self.pre),
                             bipolar=False, scale=scale, zero_point=zp, bitwidth=bits, signed=signed,
                             narrow=narrow, rounding=rounding.upper())
        self._emit(q)
        if self.pending_flatten or len(shape) == 1:  # a vector input streams element by element: gather it too
            t = self.t
            self._emit(Flatten(f"{node.name}_flatten", TensorType((t.size,), t.kind, t.lo, t.hi, t.scale)))
            self.pending_flatten = False

    def _flatten_kind(self, node):
        """True if this Reshape/Flatten flattens to (batch, N); False if it changes nothing."""
        out_shape = self._shape(node.output[0])
        in_shape = self._shape(node.input[0])
        if out_shape == in_shape:
            return False
        if len(out_shape) == 1 and out_shape[0] == int(np.prod(in_shape)):
            return True
        raise self._err(node, f"reshapes {in_shape} to {out_shape}; only flattening to a vector is supported")

    # -- main-path handlers ----------------------------------------------------------------------
    def _need_binary_or_int(self, node):
        if self.t.kind == "float":
            raise self._err(
                node, "reads a float tensor; a binary-weight layer needs a binary activation or "
                      "quantized integer input (a BipolarQuant or Quant before it)"
            )

    def _layer_out(self, weights, scale, src, channel_shape):
        lo, hi, _ = acc_range(weights, self.t.kind, self.t.lo, self.t.hi)
        acc_scale = self.t.scale * (scale if np.ndim(scale) == 0 else 1.0)
        return TensorType(channel_shape, "int", int(lo.min()), int(hi.max()), acc_scale)

    def _after_layer(self, node, scale, alpha=1.0, bias=None):
        """Per-channel weight scale, Gemm alpha and bias become float ops after the accumulator."""
        src = node.output[0]
        if np.ndim(scale):
            self._float_op(node, "mul", np.asarray(scale, np.float32), src)
        if alpha != 1.0:
            self._float_op(node, "mul", np.asarray(alpha, np.float32), src)
        if bias is not None and np.any(bias != 0):
            self._float_op(node, "add", self._channel_param(node, bias), src)

    def _on_Gemm(self, node):
        self._need_binary_or_int(node)
        if self._attr(node, "transA", 0):
            raise self._err(node, "transA=1 is not supported")
        if len(self.t.shape) != 1:
            raise self._err(node, f"reads a tensor of shape {self.t.shape}; flatten it first")
        w, scale = self._weights(node, node.input[1])
        if not self._attr(node, "transB", 0):
            w = w.T
            scale = scale.T if np.ndim(scale) else scale
        self._dense(node, w, scale, float(self._attr(node, "alpha", 1.0)),
                    self._bias(node, 2, float(self._attr(node, "beta", 1.0))))

    def _on_MatMul(self, node):
        self._need_binary_or_int(node)
        if len(self.t.shape) != 1:
            raise self._err(node, f"reads a tensor of shape {self.t.shape}; flatten it first")
        w, scale = self._weights(node, node.input[1])
        self._dense(node, w.T, scale.T if np.ndim(scale) else scale, 1.0, None)

    def _dense(self, node, w, scale, alpha, bias):
        if w.dtype != np.uint8:
            raise self._err(node, "weights are k-bit integers; bitfold needs binary weights in a dense layer "
                                  "(integer kernels are built only as 3x3 jet features)")
        w = np.ascontiguousarray(w, dtype=np.uint8)
        if w.ndim != 2 or w.shape[1] != self.t.size:
            raise self._err(node, f"weights of shape {w.shape} do not match an input of size {self.t.size}")
        out = self._layer_out(w, scale, node.output[0], (w.shape[0],))
        self._emit(Dense(node.name, out, node.output[0], weights=w))
        self._after_layer(node, scale, alpha, bias)

    def _bias(self, node, index, beta=1.0):
        if len(node.input) <= index or not node.input[index]:
            return None
        b = self._const(node.input[index])
        if b is None:
            raise self._err(node, "bias is not a constant")
        return b.astype(np.float32) * np.float32(beta)

    def _on_Conv(self, node):
        self._need_binary_or_int(node)
        if len(self.t.shape) != 3:
            raise self._err(node, f"reads a tensor of shape {self.t.shape}; a Conv needs (C, H, W)")
        if int(self._attr(node, "group", 1)) != 1:
            raise self._err(node, "grouped convolution is not supported (group must be 1)")
        if any(d != 1 for d in self._attr(node, "dilations", [1, 1])):
            raise self._err(node, "dilated convolution is not supported")
        auto_pad = self._attr(node, "auto_pad", b"NOTSET")
        if (auto_pad.decode() if isinstance(auto_pad, bytes) else auto_pad) != "NOTSET":
            raise self._err(node, "auto_pad is not supported; give explicit pads")
        w, scale = self._weights(node, node.input[1])
        if w.dtype != np.uint8:  # integer kernels: a jet feature layer, or nothing bitfold can build
            return self._jet_conv(node, w, scale)
        w = np.ascontiguousarray(w, dtype=np.uint8)
        if w.ndim != 4 or w.shape[1] != self.t.shape[0]:
            raise self._err(node, f"weights of shape {w.shape} do not match {self.t.shape[0]} input channels")
        stride = tuple(int(s) for s in self._attr(node, "strides", [1, 1]))
        hb, wb, he, we = (int(p) for p in self._attr(node, "pads", [0, 0, 0, 0]))
        pads, pad_value = (hb, wb, he, we), 0
        if any(pads):
            if self.t.kind == "bits":
                raise self._err(
                    node, "zero padding on a binary input would put a 0 into an XNOR datapath; pad with "
                          "-1 or +1 by a constant Pad before the Conv (bnn.layers.BinaryConv2d does)"
                )
        if self.pending_pad is not None:
            if any(pads):
                raise self._err(node, "has both a Pad before it and pads of its own")
            pads, pad_value = self.pending_pad
            self.pending_pad = None
        out_shape = self._shape(node.output[0])
        out = self._layer_out(w, scale, node.output[0], out_shape)
        conv = Conv(node.name, out, node.output[0], weights=w, stride=stride, pads=pads, pad_value=pad_value)
        self._emit(conv)
        self._after_layer(node, scale, 1.0, self._bias(node, 2))

    def _jet_conv(self, node, w, scale):
        from .graph import JetConv
        from .jets import decompose
        from .ranges import int_kernel_range

        if w.ndim != 4 or w.shape[2:] != (3, 3) or w.shape[1] != self.t.shape[0]:
            raise self._err(node, f"integer weights of shape {w.shape}: bitfold builds integer kernels only as "
                                  "3x3 jet features (bnn.layers.JetConv2d)")
        coeffs = decompose(w)
        if coeffs is None or np.any(np.abs(coeffs) > 1):
            bad = np.argwhere(np.abs(decompose(w)) > 1)[0] if coeffs is not None else None
            where = f" (output {bad[0]}, input {bad[1]})" if bad is not None else ""
            raise self._err(node, f"integer kernel{where} is not a -1/0/+1 combination of the nine jets; bitfold "
                                  "builds integer kernels only as jet features (bnn.layers.JetConv2d)")
        if np.ndim(scale):
            raise self._err(node, "jet kernels need one weight scale per tensor")
        stride = tuple(int(s) for s in self._attr(node, "strides", [1, 1]))
        pads, pad_value = tuple(int(p) for p in self._attr(node, "pads", [0, 0, 0, 0])), 0
        if any(pads) and self.t.kind == "bits":
            raise self._err(node, "zero padding on a binary input would put a 0 into the jet datapath; pad with "
                                  "-1 or +1 by a constant Pad before the Conv")
        if self.pending_pad is not None:
            pads, pad_value = self.pending_pad
            self.pending_pad = None
        lo, hi, _ = int_kernel_range(w.reshape(len(w), -1), self.t.kind, self.t.lo, self.t.hi)
        out = TensorType(self._shape(node.output[0]), "int", int(lo.min()), int(hi.max()), self.t.scale * scale)
        self._emit(JetConv(node.name, out, node.output[0], coeffs=coeffs.astype(np.int8), stride=stride, pads=pads,
                           pad_value=pad_value))
        self._after_layer(node, scale, 1.0, self._bias(node, 2))

    def _on_Pad(self, node):
        mode = self._attr(node, "mode", b"constant")
        if (mode.decode() if isinstance(mode, bytes) else mode) != "constant":
            raise self._err(node, "only constant padding is supported")
        pads = self._const(node.input[1])
        if pads is None or len(self.t.shape) != 3 or pads.size != 8:
            raise self._err(node, "pads must be a constant for a (N, C, H, W) tensor")
        pads = [int(p) for p in pads]
        if pads[0] or pads[1] or pads[4] or pads[5]:
            raise self._err(node, "pads the batch or channel axis; only H and W may be padded")
        value = 0.0
        if len(node.input) > 2 and node.input[2]:
            value = self._scalar(node, node.input[2], "pad value")
        if self.t.kind == "bits":
            if value not in (self.t.scale, -self.t.scale):
                raise self._err(
                    node, f"pads a binary tensor with {value:g}; only -1 or +1 (times the scale "
                          f"{self.t.scale:g}) keep the datapath binary"
                )
            code = int(value > 0)
        elif self.t.kind == "int":
            code = value / self.t.scale
            if code != int(code) or not self.t.lo <= code <= self.t.hi:
                raise self._err(node, f"pad value {value:g} is not a code of the quantized input")
            code = int(code)
        else:
            raise self._err(node, "pads a float tensor; pad the quantized tensor instead")
        self.pending_pad = ((pads[2], pads[3], pads[6], pads[7]), code)

    def _on_BatchNormalization(self, node):
        if self.t.kind == "bits":
            raise self._err(node, "normalizes a binary activation; BatchNorm must follow a layer's accumulator")
        if len(self.t.shape) not in (1, 3):
            raise self._err(node, f"unexpected tensor shape {self.t.shape}")
        params = []
        for i, what in zip(range(1, 5), ("scale", "bias", "mean", "var"), strict=True):
            p = self._const(node.input[i])
            if p is None:
                raise self._err(node, f"{what} is not a constant")
            if p.shape != (self.t.shape[0],):
                raise self._err(node, f"{what} has shape {p.shape}, expected ({self.t.shape[0]},)")
            params.append(np.ascontiguousarray(p, dtype=np.float32))
        eps = float(np.float32(self._attr(node, "epsilon", 1e-5)))
        self._float_op(node, "bn", tuple(params) + (eps,), node.output[0])

    def _on_arith(self, node):
        if self.t.kind == "bits":
            raise self._err(node, "scales a binary activation; only accumulators and scores may be scaled")
        c, first = self._data_and_const(node)
        op = node.op_type.lower()
        p = self._channel_param(node, c)
        if first or op in ("mul", "add"):
            self._float_op(node, op, p, node.output[0])
        elif op == "sub":
            self._float_op(node, "mul", np.asarray(-1.0, np.float32), node.output[0])
            self._float_op(node, "add", p, node.output[0])
        else:
            raise self._err(node, "divides a constant by the data; only x / c is supported")

    def _on_BipolarQuant(self, node):
        scale = self._scalar(node, node.input[1], "scale")
        self._sign(node, scale, [])

    def _on_Quant(self, node):
        bits = self._scalar(node, node.input[3], "bit width")
        signed = bool(self._attr(node, "signed", 1))
        if bits != 1 or not signed:
            raise self._err(
                node, f"quantizes a hidden activation to {bits:g} bits ({'signed' if signed else 'unsigned'}); "
                      "bitfold supports binary activations after the input (BipolarQuant or a 1-bit "
                      "signed Quant)"
            )
        scale = self._scalar(node, node.input[1], "scale")
        zp = self._scalar(node, node.input[2], "zero point")
        ops = [("div", np.asarray(scale, np.float32))]  # qonnx: x / scale + zp >= 0
        if zp:
            ops.append(("add", np.asarray(zp, np.float32)))
        self._sign(node, scale, ops)

    def _sign(self, node, scale, ops):
        if self.t.kind == "bits":
            raise self._err(node, "binarizes a tensor that is already binary")
        if scale <= 0:
            raise self._err(node, f"scale {scale} is not positive")
        for kind, p in ops:
            self._float_op(node, kind, p, node.output[0])
        self._emit(Sign(node.name, TensorType(self.t.shape, "bits", 0, 1, scale), node.output[0]))

    def _on_MaxPool(self, node):
        if self.t.kind != "bits":
            raise self._err(
                node, "pools a non-binary tensor; bitfold pools binary activations (MaxPool after the sign)"
            )
        kernel = tuple(int(k) for k in self._attr(node, "kernel_shape"))
        stride = tuple(int(s) for s in self._attr(node, "strides", [1] * len(kernel)))
        if any(int(p) for p in self._attr(node, "pads", [0, 0, 0, 0])):
            raise self._err(node, "padded max-pooling is not supported")
        if int(self._attr(node, "ceil_mode", 0)):
            raise self._err(node, "ceil_mode=1 is not supported")
        if any(d != 1 for d in self._attr(node, "dilations", [1, 1])):
            raise self._err(node, "dilated max-pooling is not supported")
        if len(kernel) != 2:
            raise self._err(node, "only 2-D max-pooling is supported")
        out_shape = self._shape(node.output[0])
        self._emit(MaxPool(node.name, TensorType(out_shape, "bits", 0, 1, self.t.scale), node.output[0],
                           kernel=kernel, stride=stride))

    def _on_Reshape(self, node):
        if self._flatten_kind(node):
            t = self.t
            self._emit(Flatten(node.name, TensorType((t.size,), t.kind, t.lo, t.hi, t.scale), node.output[0]))

    _on_Flatten = _on_Reshape

    def _on_Transpose(self, node):
        raise self._err(node, "transposes the data path; only weights may be transposed")
