"""The integer IR: a chain of frozen dataclass nodes, one tensor flowing from each to the next.

A graph is what a binarized net computes, with every value an integer (or a bit) except the float
per-channel ops a frontend reads before streamlining folds them away. Its meaning is defined by the
numpy interpreter in :mod:`hw.ir.interp`; :mod:`hw.ir.verify` checks that types and ranges chain.

Values (per image, batch dimension omitted):

* ``bits``: uint8 0/1, where 1 means +1 and 0 means -1 (a bipolar activation),
* ``int``: integers in ``[lo, hi]`` (input codes, accumulators, scores),
* ``float``: float32 (only between an accumulator and the sign that binarizes it, or after the last
  layer, until the passes fold them).

``TensorType.scale`` is the float value of one integer unit in the QONNX graph (a bit means
``±scale``), so a QONNX tensor equals ``value * scale`` and the two can be compared exactly.

Shapes are ``(C, H, W)`` for feature maps (ONNX order) and ``(N,)`` for vectors; ``Flatten`` turns
the first into the second in C, H, W order.
"""

from __future__ import annotations

import base64
import dataclasses
import json
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from ..errors import BitfoldError
from .schedule import Schedule

__all__ = [
    "TensorType", "Kind", "WeightMode", "Node", "Quantize", "Dense", "Conv", "JetConv", "FloatOps", "Sign",
    "Threshold", "MaxPool", "Flatten", "Scores", "Graph", "Folding", "Schedule", "NODE_TYPES", "FLOAT_OPS",
]

FLOAT_OPS = ("add", "sub", "mul", "div", "bn")


class Kind(StrEnum):
    """What the elements of a tensor are (see the module docstring)."""

    BITS = "bits"
    INT = "int"
    FLOAT = "float"


class WeightMode(StrEnum):
    """Where a folded layer's weights live: a memory read every cycle, or constants in the logic."""

    MEMORY = "memory"
    CONSTANT = "constant"


KINDS = tuple(Kind)


@dataclass(frozen=True)
class TensorType:
    """Shape, kind and integer range of one tensor (per image)."""

    shape: tuple
    kind: str
    lo: int = 0
    hi: int = 1
    scale: float = 1.0

    def __post_init__(self):
        object.__setattr__(self, "shape", tuple(int(s) for s in self.shape))
        object.__setattr__(self, "lo", int(self.lo))
        object.__setattr__(self, "hi", int(self.hi))
        object.__setattr__(self, "scale", float(self.scale))
        if self.kind not in KINDS:
            raise ValueError(f"tensor kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        object.__setattr__(self, "kind", Kind(self.kind))

    @property
    def channels(self) -> int:
        return self.shape[0]

    @property
    def size(self) -> int:
        return int(np.prod(self.shape))

    @property
    def signed(self) -> bool:
        return self.lo < 0

    @property
    def bits(self) -> int:
        """Width of one element in hardware: 1 for bits, two's complement or unsigned for ints."""
        if self.kind == Kind.BITS:
            return 1
        if self.kind == Kind.FLOAT:
            return 32
        if self.lo >= 0:
            return max(1, int(self.hi).bit_length())
        return max(int(self.hi).bit_length(), int(-self.lo - 1).bit_length()) + 1


@dataclass(frozen=True)
class Folding:
    """How a binary layer is folded onto hardware (set by the ``fold`` pass, sized by ``size``).

    ``pe`` output channels in parallel (divides O), ``simd`` input elements per cycle (divides K),
    weight ``mode`` (:class:`WeightMode`), and for a convolution ``windows``: output positions
    computed at once (divides the output width). Everything that follows from these (widths,
    memory shapes, cycles) is computed in the layer's hardware plan (:mod:`hw.plan`), not stored
    here.
    """

    pe: int
    simd: int
    mode: WeightMode = WeightMode.MEMORY
    windows: int = 1

    def __post_init__(self):
        for what in ("pe", "simd", "windows"):
            v = getattr(self, what)
            if isinstance(v, bool) or not isinstance(v, int | np.integer):
                raise BitfoldError(f"{what.upper() if what != 'windows' else what} must be an integer, not {v!r}")
            object.__setattr__(self, what, int(v))
        if self.mode not in tuple(WeightMode):
            raise BitfoldError(f"weight mode must be 'memory' or 'constant', not {self.mode!r}")
        object.__setattr__(self, "mode", WeightMode(self.mode))

    def to_dict(self):
        return {"pe": self.pe, "simd": self.simd, "mode": str(self.mode), "windows": self.windows}

    @classmethod
    def from_dict(cls, d):
        # IR files written before the hardware plan existed also stored derived widths: ignore them
        return cls(d["pe"], d["simd"], d.get("mode", WeightMode.MEMORY), d.get("windows", 1))


@dataclass(frozen=True, eq=False)
class Node:
    """Common fields: ``name`` (from the QONNX node), ``out`` (the type of the output) and ``src``
    (the QONNX tensor this node's output equals, or "" when it has none)."""

    name: str
    out: TensorType
    src: str = ""

    @property
    def op(self) -> str:
        return type(self).__name__

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True, eq=False)
class Quantize(Node):
    """Graph input: float model input -> integer codes or bits.

    ``pre`` is a chain of scalar float32 ops applied first, as the QONNX graph does
    (e.g. ``(("mul", 2.0), ("sub", 1.0))``). Then, if ``bipolar``: bit = (x >= 0) (QONNX
    ``BipolarQuant``, or a 1-bit signed ``Quant``). Otherwise QONNX ``Quant``:
    ``clip(round(x / scale + zero_point))`` with ``rounding`` a numpy rounding mode name.

    ``pixels``: in hardware, the pixels (or, for a vector input, the elements) the input stream
    carries per beat, set with the folding.
    """

    pre: tuple = ()
    bipolar: bool = False
    scale: float = 1.0
    zero_point: float = 0.0
    bitwidth: int = 8
    signed: bool = False
    narrow: bool = False
    rounding: str = "ROUND"
    pixels: int = 1


@dataclass(frozen=True, eq=False)
class Dense(Node):
    """Binary-weight matrix-vector product. ``weights``: uint8 bits ``(O, K)`` (1 means +1).

    Input ``bits``: ``acc = 2 * popcount(XNOR(x, w)) - K``. Input ``int``:
    ``acc = sum_{w=1} x - sum_{w=0} x``. ``out.scale`` is the float value of one accumulator unit.
    ``schedule``: an MST computation order (:class:`~hw.ir.schedule.Schedule`; None: direct).
    """

    weights: np.ndarray = field(default=None, repr=False)
    schedule: Schedule | None = None
    folding: Folding | None = None

    @property
    def fan_in(self) -> int:
        return int(self.weights.shape[1])

    @property
    def vectors(self) -> int:
        """Input vectors per image (1 for a dense layer)."""
        return 1


@dataclass(frozen=True, eq=False)
class Conv(Node):
    """Binary-weight 2-D convolution. ``weights``: uint8 bits ``(O, C, KH, KW)``.

    ``pads`` = (top, left, bottom, right) border filled with ``pad_value`` (a bit for a ``bits``
    input: 0 is -1; an integer code for an ``int`` input). Accumulates as :class:`Dense` over each
    window flattened in (C, KH, KW) order.
    """

    weights: np.ndarray = field(default=None, repr=False)
    stride: tuple = (1, 1)
    pads: tuple = (0, 0, 0, 0)
    pad_value: int = 0
    schedule: Schedule | None = None
    folding: Folding | None = None

    @property
    def vectors(self) -> int:
        """Input vectors (windows) per image: one per output position."""
        return int(np.prod(self.out.shape[1:]))

    @property
    def kernel(self):
        return tuple(int(k) for k in self.weights.shape[2:])

    @property
    def fan_in(self) -> int:
        return int(np.prod(self.weights.shape[1:]))


@dataclass(frozen=True, eq=False)
class JetConv(Node):
    """Neural jet feature layer (see :mod:`hw.ir.jets`): for each output channel ``o``,
    ``sum_c sum_j coeffs[o, c, j] * J_j(x_c)`` over 3x3 windows, where ``J_j`` are the nine jets
    and ``coeffs`` are -1, 0 or +1 (the constrained form has one nonzero per (o, c)). A binary
    input counts as -1 / +1. ``pads`` / ``pad_value`` as for :class:`Conv`."""

    coeffs: np.ndarray = field(default=None, repr=False)
    stride: tuple = (1, 1)
    pads: tuple = (0, 0, 0, 0)
    pad_value: int = 0
    folding: Folding | None = None

    kernel = (3, 3)

    @property
    def int_kernels(self) -> np.ndarray:
        """The equivalent integer 3x3 kernels, ``(O, C, 3, 3)``."""
        from .jets import compose

        return compose(self.coeffs)

    @property
    def weights(self) -> np.ndarray:
        """For shape bookkeeping shared with Conv: ``(O, C, 3, 3)`` integer kernels."""
        return self.int_kernels

    @property
    def fan_in(self) -> int:
        return int(self.coeffs.shape[1] * 9)

    @property
    def vectors(self) -> int:
        return int(np.prod(self.out.shape[1:]))


@dataclass(frozen=True, eq=False)
class FloatOps(Node):
    """Float32 per-channel (or scalar) ops, applied in order along axis 0 of each image.

    ``ops`` is a tuple of ``(kind, params)``: ``add``/``sub``/``mul``/``div`` with a float32 array of
    shape ``(C,)`` or ``()``, or ``bn`` with ``(scale, bias, mean, var, eps)`` computing
    ``(x - mean) / sqrt(var + eps) * scale + bias`` as ONNX ``BatchNormalization`` defines it.
    The input is the accumulator times ``in.scale`` in float32.
    """

    ops: tuple = ()


@dataclass(frozen=True, eq=False)
class Sign(Node):
    """float -> bits: 1 where x >= 0 (sign(0) = +1, as ``BipolarQuant``)."""


@dataclass(frozen=True, eq=False)
class Threshold(Node):
    """int -> bits per channel c: ``acc >= thresholds[c]`` if ``directions[c] > 0`` else
    ``acc <= thresholds[c]``. Folded from accumulator -> float ops -> sign."""

    thresholds: np.ndarray = field(default=None, repr=False)
    directions: np.ndarray = field(default=None, repr=False)


@dataclass(frozen=True, eq=False)
class MaxPool(Node):
    """bits -> bits: OR over each ``kernel`` window (the max of ±1 values), no padding."""

    kernel: tuple = (2, 2)
    stride: tuple = (2, 2)


@dataclass(frozen=True, eq=False)
class Flatten(Node):
    """(C, H, W) -> (C * H * W,), in C, H, W order (``order="chw"``, ONNX's) or H, W, C order
    (``"hwc"``, the order pixels stream in hardware; the pass ``to_hwc`` switches and permutes the
    next layer's weights to match)."""

    order: str = "chw"


@dataclass(frozen=True, eq=False)
class Scores(Node):
    """Final integer scores: ``sign * acc + bias`` per class. The class is the argmax, lowest index
    on ties. ``sign`` is -1 when a negative scalar scale after the last layer reverses the order."""

    sign: int = 1
    bias: np.ndarray = field(default=None, repr=False)


NODE_TYPES = {cls.__name__: cls for cls in (Quantize, Dense, Conv, JetConv, FloatOps, Sign, Threshold, MaxPool,
                                            Flatten, Scores)}


@dataclass(frozen=True, eq=False)
class Graph:
    """A chain of nodes; node 0 is the :class:`Quantize` that reads the float model input.

    Members
    -------
    input : TensorType
        The float model input (shape per image).
    nodes : tuple of Node
    meta : dict
        Free-form provenance (source file, model name, input/output QONNX tensor names).
    """

    input: TensorType
    nodes: tuple
    meta: dict = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "nodes", tuple(self.nodes))
        names = [n.name for n in self.nodes]
        dup = {n for n in names if names.count(n) > 1}
        if dup:
            raise BitfoldError(f"IR node names must be unique; repeated: {', '.join(sorted(dup))}")

    def __iter__(self):
        return iter(self.nodes)

    def __len__(self):
        return len(self.nodes)

    def __getitem__(self, key):
        if isinstance(key, str):
            for n in self.nodes:
                if n.name == key:
                    return n
            raise KeyError(f"no IR node named {key!r}")
        return self.nodes[key]

    def in_type(self, index: int) -> TensorType:
        """The type of the tensor node ``index`` reads."""
        return self.input if index == 0 else self.nodes[index - 1].out

    @property
    def output(self) -> TensorType:
        return self.nodes[-1].out

    def replace(self, nodes=None, meta=None) -> Graph:
        return Graph(self.input, tuple(self.nodes if nodes is None else nodes),
                     dict(self.meta if meta is None else meta))

    # -- serialization ------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "format": "bitfold-ir",
            "version": 1,
            "input": _type_to_json(self.input),
            "nodes": [_node_to_json(n) for n in self.nodes],
            "meta": self.meta,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1) + "\n"

    @classmethod
    def from_dict(cls, d: dict) -> Graph:
        if d.get("format") != "bitfold-ir":
            raise BitfoldError("not a bitfold IR document (missing \"format\": \"bitfold-ir\")")
        if d.get("version") != 1:
            raise BitfoldError(f"bitfold IR version {d.get('version')!r} is not supported (expected 1)")
        return cls(_type_from_json(d["input"]), tuple(_node_from_json(n) for n in d["nodes"]),
                   d.get("meta", {}))

    @classmethod
    def from_json(cls, text: str) -> Graph:
        try:
            d = json.loads(text)
        except json.JSONDecodeError as e:
            raise BitfoldError(f"IR file is not valid JSON: {e}") from None
        return cls.from_dict(d)


# -- JSON helpers: bit arrays packed as base64, ints as lists, float32 as exact float lists ---------

def _type_to_json(t: TensorType):
    return dataclasses.asdict(t) | {"shape": list(t.shape), "kind": str(t.kind)}


def _type_from_json(d):
    return TensorType(tuple(d["shape"]), d["kind"], d["lo"], d["hi"], d["scale"])


def _array_to_json(a: np.ndarray):
    a = np.asarray(a)
    if a.dtype == np.uint8 and a.size and a.max() <= 1:
        return {"bits": base64.b64encode(np.packbits(a.ravel()).tobytes()).decode(), "shape": list(a.shape)}
    if a.dtype.kind in "iu":
        return {"int": a.ravel().tolist(), "shape": list(a.shape), "dtype": a.dtype.name}
    return {"float32": [float(v) for v in a.astype(np.float32).ravel()], "shape": list(a.shape)}


def _array_from_json(d):
    shape = tuple(d["shape"])
    if "bits" in d:
        n = int(np.prod(shape))
        packed = np.frombuffer(base64.b64decode(d["bits"]), dtype=np.uint8)
        return np.unpackbits(packed)[:n].reshape(shape)
    if "int" in d:
        return np.asarray(d["int"], dtype=d.get("dtype", "int64")).reshape(shape)
    return np.asarray(d["float32"], dtype=np.float32).reshape(shape)


def _value_to_json(v):
    if isinstance(v, TensorType):
        return {"type": _type_to_json(v)}
    if isinstance(v, np.ndarray):
        return {"array": _array_to_json(v)}
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, tuple | list):
        return {"tuple": [_value_to_json(x) for x in v]}
    if isinstance(v, StrEnum):
        return str(v)
    if v is None or isinstance(v, bool | int | float | str):
        return v
    if hasattr(v, "to_dict"):
        return {"object": type(v).__name__, "value": v.to_dict()}
    raise TypeError(f"cannot serialize {type(v).__name__} in the IR")


def _value_from_json(v):
    if isinstance(v, dict):
        if "type" in v:
            return _type_from_json(v["type"])
        if "array" in v:
            return _array_from_json(v["array"])
        if "tuple" in v:
            return tuple(_value_from_json(x) for x in v["tuple"])
        if "object" in v:
            if v["object"] not in _OBJECT_TYPES:
                raise BitfoldError(f"IR object type {v['object']!r} is unknown; known: {', '.join(_OBJECT_TYPES)}")
            return _OBJECT_TYPES[v["object"]].from_dict(v["value"])
    return v


def _node_to_json(n: Node):
    d = {"op": n.op}
    for f in dataclasses.fields(n):
        d[f.name] = _value_to_json(getattr(n, f.name))
    return d


def _node_from_json(d):
    op = d.get("op")
    if op not in NODE_TYPES:
        raise BitfoldError(f"IR node op {op!r} is unknown; known ops: {', '.join(NODE_TYPES)}")
    kwargs = {k: _value_from_json(v) for k, v in d.items() if k != "op"}
    return NODE_TYPES[op](**kwargs)


# Objects carried by nodes, for JSON round-trips.
_OBJECT_TYPES = {cls.__name__: cls for cls in (Folding, Schedule)}
