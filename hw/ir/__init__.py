"""The integer IR: graph dataclasses, the QONNX frontend, the reference interpreter, checks."""

from .graph import Graph, TensorType
from .verify import verify

__all__ = ["Graph", "TensorType", "verify"]
