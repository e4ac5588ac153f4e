"""Binary and input quantizers, on Brevitas.

Semantics (DESIGN.md): a binary value is a bit b meaning 2b-1 in {-1, +1}; sign(0) = +1. Scales are
exactly 1 (binary) or a power of two (inputs) so that every sum a layer computes in float32 is an
exact integer multiple of the scale: torch, onnxruntime and the integer reference then agree bit for
bit, whatever order they add in.
"""

from brevitas.core.scaling import ScalingImplType
from brevitas.quant.binary import SignedBinaryActPerTensorConst, SignedBinaryWeightPerTensorConst
from brevitas.quant.scaled_int import Int8ActPerTensorFloat, Uint8ActPerTensorFloat

from hw.errors import BitfoldError

__all__ = ["BinaryWeightQuant", "BinaryActQuant", "int_input_quant", "input_scale"]


class BinaryWeightQuant(SignedBinaryWeightPerTensorConst):
    """Binary weights ±1 (scale 1), straight-through gradient, latent weights clipped to [-1, 1].

    Exports as QONNX ``BipolarQuant`` with scale 1.
    """

    scaling_const = 1.0


class BinaryActQuant(SignedBinaryActPerTensorConst):
    """Binary activations ±1 (sign, 0 -> +1) with a straight-through estimator that passes the
    gradient where the input lies in [-1, 1] (hard tanh). Exports as ``BipolarQuant`` with scale 1."""


def input_scale(bits: int, signed: bool) -> float:
    """The quantization step of a k-bit input: 2^-k unsigned (inputs in [0, 1)), 2^-(k-1) signed."""
    return 2.0 ** -(bits - 1 if signed else bits)


def int_input_quant(bits: int, signed: bool):
    """A Brevitas activation quantizer for k-bit integer inputs with a constant power-of-two scale.

    Unsigned: codes ``round(x * 2^k)`` clipped to [0, 2^k - 1]. Signed: ``round(x * 2^(k-1))``
    clipped to [-2^(k-1), 2^(k-1) - 1]. Exports as QONNX ``Quant`` with that scale and zero point 0.
    """
    if not isinstance(bits, int) or not 1 <= bits <= 16:
        raise BitfoldError(f"input bit width must be an integer from 1 to 16, not {bits!r}")
    if signed and bits < 2:
        raise BitfoldError("a signed input needs at least 2 bits; use bits=1 for a binarized input")
    scale = input_scale(bits, signed)
    # Brevitas derives scale = threshold / 2^(k-1) (signed) or threshold / (2^k - 1) (unsigned);
    # both divisions are exact here, so the exported scale is exactly the power of two.
    threshold = scale * (2 ** (bits - 1) if signed else 2**bits - 1)
    base = Int8ActPerTensorFloat if signed else Uint8ActPerTensorFloat
    return type(
        f"{'Int' if signed else 'Uint'}{bits}InputQuant",
        (base,),
        dict(
            bit_width=bits,
            scaling_impl_type=ScalingImplType.CONST,
            scaling_init=threshold,
            max_val=threshold,
            min_val=-threshold if signed else 0.0,
        ),
    )
