"""Reading a QONNX file and putting it through qonnx's ``cleanup_model``."""

from pathlib import Path

import onnx

from ...errors import BitfoldError

__all__ = ["load_qonnx"]


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
