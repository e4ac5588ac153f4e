"""How IR tensors travel on the top-level streams, shared by the plan, the simulators and the
tests (so a layout is defined once).

Input: ``P`` pixels per beat in raster order (for a vector input, ``P`` elements), ``P`` chosen with
the folding; a pixel holds its channels, element ``c`` of pixel ``j`` of a beat in bits
``[(j*C + c)*b, (j*C + c + 1)*b)``, ``b`` = 1 for binary inputs (the bit itself) or the integer code
width (two's complement when signed). An image is the concatenation of its beats, beat 0 in the
least significant bits (so the packing of an image does not depend on ``P``).

Output: one beat per image: the class in the low ``class_bits`` bits, then the scores, class ``c``
at ``class_bits + c*w``, ``w``-bit two's complement.
"""

from dataclasses import asdict, dataclass

import numpy as np

from ..ir.graph import Graph, Kind

__all__ = ["InputLayout", "OutputLayout", "input_layout", "output_layout"]


@dataclass(frozen=True)
class InputLayout:
    """``pixels`` pixels (of ``channels`` elements; for a vector input, elements) per beat,
    ``beats`` beats per image."""

    shape: tuple
    channels: int
    element_bits: int
    signed: bool
    beats: int
    pixels: int = 1

    @property
    def beat_bits(self) -> int:
        return self.pixels * self.channels * self.element_bits

    @property
    def image_bits(self) -> int:
        return self.beats * self.beat_bits

    def to_dict(self):
        return asdict(self) | {"beat_bits": self.beat_bits, "shape": list(self.shape)}

    def _elements(self, codes):
        codes = np.asarray(codes)
        if len(self.shape) == 3:  # (N, C, H, W) -> raster order, channels within a pixel
            codes = codes.transpose(0, 2, 3, 1)
        return codes.reshape(len(codes), -1).astype(np.int64)

    def images(self, codes) -> list:
        """Each image as one integer (all beats concatenated)."""
        e = self._elements(codes) & ((1 << self.element_bits) - 1)
        bits = ((e[:, :, None] >> np.arange(self.element_bits)) & 1).astype(np.uint8)
        packed = np.packbits(bits.reshape(len(e), -1), axis=1, bitorder="little")
        return [int.from_bytes(row.tobytes(), "little") for row in packed]

    def beats_of(self, image: int) -> list:
        mask = (1 << self.beat_bits) - 1
        return [(image >> (j * self.beat_bits)) & mask for j in range(self.beats)]


@dataclass(frozen=True)
class OutputLayout:
    classes: int
    score_width: int
    class_bits: int

    @property
    def beat_bits(self) -> int:
        return self.class_bits + self.classes * self.score_width

    def to_dict(self):
        return asdict(self) | {"beat_bits": self.beat_bits}

    def decode(self, beat: int):
        """``(class, scores)`` of one output beat."""
        cls = beat & ((1 << self.class_bits) - 1)
        w = self.score_width
        scores = []
        for c in range(self.classes):
            v = (beat >> (self.class_bits + c * w)) & ((1 << w) - 1)
            scores.append(v - (1 << w) if v >> (w - 1) else v)
        return cls, scores


def input_layout(graph: Graph) -> InputLayout:
    t = graph.nodes[0].out
    p = graph.nodes[0].pixels
    if len(t.shape) == 3:
        channels, beats = t.shape[0], t.shape[1] * t.shape[2] // p
    else:
        channels, beats = 1, t.shape[0] // p
    return InputLayout(t.shape, channels, t.bits, t.kind == Kind.INT and t.lo < 0, beats, p)


def output_layout(graph: Graph) -> OutputLayout:
    t = graph.output
    classes = t.shape[0]
    return OutputLayout(classes, t.bits, max(1, (classes - 1).bit_length()))
