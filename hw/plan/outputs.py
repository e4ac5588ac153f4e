"""What a layer unit emits per output channel: a threshold bit, or an integer score."""

from dataclasses import dataclass

import numpy as np

__all__ = ["ThresholdOut", "ScoreOut", "hw_thresholds"]


@dataclass(frozen=True, eq=False)
class ThresholdOut:
    """Channel ``c`` emits ``acc >= thresholds[c]`` (direction +1) or ``acc <= thresholds[c]`` (-1),
    on the unit's own accumulator (the popcount for binary inputs, see :func:`hw_thresholds`)."""

    thresholds: np.ndarray
    directions: np.ndarray

    def __post_init__(self):
        object.__setattr__(self, "thresholds", np.asarray(self.thresholds, dtype=np.int64))
        object.__setattr__(self, "directions", np.asarray(self.directions, dtype=np.int64))

    bits = 1


@dataclass(frozen=True, eq=False)
class ScoreOut:
    """Channel ``c`` emits ``sign * dot + bias[c]`` as a ``width``-bit two's complement integer,
    ``dot`` being ``2 * popcount - K`` (binary inputs) or the signed sum."""

    sign: int
    bias: np.ndarray
    width: int

    def __post_init__(self):
        object.__setattr__(self, "sign", int(self.sign))
        object.__setattr__(self, "bias", np.asarray(self.bias, dtype=np.int64))
        object.__setattr__(self, "width", int(self.width))

    @property
    def bits(self) -> int:
        return self.width


def hw_thresholds(node_thresholds, directions, k, binary):
    """IR thresholds (on ``dot = 2p - K`` for binary inputs) -> thresholds on the popcount ``p``.

    ``dot >= T`` iff ``p >= ceil((T + K) / 2)``; ``dot <= T`` iff ``p <= floor((T + K) / 2)``.
    Integer inputs keep their thresholds (the hardware accumulates the same signed sum).
    """
    t = np.asarray(node_thresholds, dtype=np.int64)
    if not binary:
        return t
    up = np.asarray(directions) > 0
    return np.where(up, -((-(t + k)) // 2), (t + k) // 2)
