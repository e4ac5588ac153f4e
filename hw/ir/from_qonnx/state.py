"""The walk's state: what has been read of the data path so far, as an immutable value.

Each handler takes a :class:`State` and returns a new one; nothing else carries information from
one ONNX node to the next.
"""

from dataclasses import dataclass, replace

from ..graph import FloatOps, Kind, Node, TensorType

__all__ = ["PendingFlatten", "PendingPad", "State"]


@dataclass(frozen=True)
class PendingFlatten:
    """A Reshape/Flatten to a vector read before the input quantizer. The quantizer keeps the
    input's shape; the IR flattens right after it."""


@dataclass(frozen=True)
class PendingPad:
    """A constant Pad, folded into the Conv right after it: ``pads`` (top, left, bottom, right) and
    ``value``, the padding as a bit (binary input) or an integer code (quantized input)."""

    pads: tuple[int, int, int, int]
    value: int


@dataclass(frozen=True)
class State:
    """``tensor``: the QONNX tensor on the data path that the next node reads, and ``type``, its IR
    type; ``nodes``: the IR so far; ``pre``: the float ops read before the input quantizer (they
    become its ``pre``); ``pending``: a node that waits for the next one."""

    tensor: str
    type: TensorType
    nodes: tuple[Node, ...] = ()
    pre: tuple[tuple[str, float], ...] = ()
    pending: PendingFlatten | PendingPad | None = None

    @property
    def before_input(self) -> bool:
        """True until the input quantizer is read (it is always the first IR node)."""
        return not self.nodes

    def emit(self, node: Node) -> "State":
        return replace(self, nodes=self.nodes + (node,), type=node.out)

    def float_op(self, name: str, kind: str, params, src: str) -> "State":
        """Append one float op, merged into the FloatOps node the data path ends in, if any."""
        last = self.nodes[-1] if self.nodes else None
        if isinstance(last, FloatOps) and self.type.kind == Kind.FLOAT:
            nodes, name, ops = self.nodes[:-1], last.name, last.ops + ((kind, params),)
        else:
            nodes, ops = self.nodes, ((kind, params),)
            if any(n.name == name for n in nodes):  # ops split off a layer (bias, alpha, scale)
                name = f"{name}_ops"
        return replace(self, nodes=nodes).emit(FloatOps(name, TensorType(self.type.shape, "float"), src, ops=ops))
