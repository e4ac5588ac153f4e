"""The streams between layers, and the stages that adapt a layer's input to its unit: width
converters and the window generator's choice of pixels per beat (shared by the plan and by the
choice of a folding, so both build the same hardware)."""

import math
from dataclasses import dataclass

from ..errors import BitfoldError
from .design import Stage
from .stream import GatherPlan, SplitPlan
from .window import WindowPlan

__all__ = ["Link", "resize", "window_stages"]


@dataclass(frozen=True)
class Link:
    """A stream between layers: the tensor it carries, its element width, and ``per_beat``: pixels
    per beat for a feature map, elements per beat for a vector (a pixel being its channels)."""

    shape: tuple
    element_bits: int
    per_beat: int

    @property
    def channels(self) -> int:
        return self.shape[0] if len(self.shape) == 3 else 1

    @property
    def items(self) -> int:
        """Pixels (or elements) per image."""
        return self.shape[1] * self.shape[2] if len(self.shape) == 3 else self.shape[0]

    @property
    def beats(self) -> int:
        return self.items // self.per_beat

    @property
    def item_bits(self) -> int:
        return self.channels * self.element_bits


def resize(name, link, per_beat, item_bits=None):
    """Width converters from ``link``'s beats to beats of ``per_beat`` items: a gatherer when
    they are a multiple, a splitter when a divisor, both (through their least common multiple)
    otherwise."""
    have, bits = link.per_beat, item_bits or link.item_bits
    if per_beat == have:
        return []
    if per_beat % have == 0:
        return [Stage(f"{name}_gather", GatherPlan(have * bits, per_beat // have))]
    if have % per_beat == 0:
        return [Stage(f"{name}_split", SplitPlan(per_beat * bits, have // per_beat))]
    lcm = have * per_beat // math.gcd(have, per_beat)
    return [Stage(f"{name}_gather", GatherPlan(have * bits, lcm // have)),
            Stage(f"{name}_split", SplitPlan(per_beat * bits, lcm // per_beat))]


def window_stages(name, node, link, windows, kernel):
    """The stages in front of a layer's unit: converters (if the window generator cannot take the
    producer's pixels per beat), then the window generator. ``windows``: M (None for pooling: as
    many as keep up with the input). Returns ``(stages, window plan, link into the window)``."""
    c, h, w = link.shape
    pads = getattr(node, "pads", (0, 0, 0, 0))
    stride = node.stride
    eb = link.element_bits
    pad_value = getattr(node, "pad_value", 0)

    def fits(p, m):
        try:
            WindowPlan(node.name, c, eb, h, w, kernel, stride, pads, pad_value, p, m)
            return True
        except BitfoldError:
            return False

    def pool_windows(p):
        m = p * stride[1] // math.gcd(p, stride[1]) // stride[1]  # a group completes every lcm(p, s) columns
        return m if fits(p, m) else None

    choose = pool_windows if windows is None else (lambda p: windows if fits(p, windows) else None)
    p = link.per_beat
    if choose(p) is None:  # the largest pixels per beat the window generator can take
        p = max((q for q in range(1, w + 1) if choose(q) is not None), default=None)
        if p is None:  # reports why, naming the layer
            WindowPlan(node.name, c, eb, h, w, kernel, stride, pads, pad_value, link.per_beat, windows or 1)
    window = WindowPlan(node.name, c, eb, h, w, kernel, stride, pads, pad_value, p, choose(p))
    stages = resize(name, link, p) + [Stage(f"{name}_swg", window)]
    return stages, window, Link(link.shape, eb, p)
