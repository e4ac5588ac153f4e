"""A sliding-window generator (built by :class:`hw.rtl.sliding_window.SlidingWindow`)."""

from dataclasses import dataclass

from ..errors import BitfoldError
from .memory import range_bits

__all__ = ["WindowPlan", "window_steps"]


def window_steps(in_shape, kernel, stride, pads):
    """The window walk over one padded image: ``(steps, [step index of each window])``.

    One step per padded pixel; a window is emitted at the step that reads its bottom-right pixel.
    """
    _, h, w = in_shape
    kh, kw = kernel
    sh, sw = stride
    t, l, b, r = pads
    hp, wp = h + t + b, w + l + r
    oh, ow = (hp - kh) // sh + 1, (wp - kw) // sw + 1
    ends = [(kh - 1 + i * sh) * wp + (kw - 1 + j * sw) for i in range(oh) for j in range(ow)]
    return hp * wp, ends


@dataclass(frozen=True)
class WindowPlan:
    """Pixels in (raster order, one per beat, ``channels`` elements of ``element_bits``), k x k
    windows out. The unit walks the padded image (``pads`` = top, left, bottom, right) one step per
    cycle, shifting an input pixel (or ``pad_value`` in the border, consuming no input) into a line
    buffer of ``(kh - 1) * padded_width + kw`` pixels, and emits a window from fixed taps after each
    step that completes one at a stride-aligned position."""

    name: str
    channels: int
    element_bits: int
    height: int
    width: int
    kernel: tuple
    stride: tuple = (1, 1)
    pads: tuple = (0, 0, 0, 0)
    pad_value: int = 0

    def __post_init__(self):
        for f in ("channels", "element_bits", "height", "width", "pad_value"):
            object.__setattr__(self, f, int(getattr(self, f)))
        for f in ("kernel", "stride", "pads"):
            object.__setattr__(self, f, tuple(int(v) for v in getattr(self, f)))
        kh, kw = self.kernel
        if kh > self.hp or kw > self.wp or min(self.kernel + self.stride) < 1:
            raise BitfoldError(f"{self.name}: kernel {self.kernel} does not fit a padded image of {self.hp}x{self.wp}")

    @property
    def hp(self) -> int:
        return self.height + self.pads[0] + self.pads[2]

    @property
    def wp(self) -> int:
        return self.width + self.pads[1] + self.pads[3]

    @property
    def out_h(self) -> int:
        return (self.hp - self.kernel[0]) // self.stride[0] + 1

    @property
    def out_w(self) -> int:
        return (self.wp - self.kernel[1]) // self.stride[1] + 1

    @property
    def pixel_bits(self) -> int:
        return self.channels * self.element_bits

    @property
    def length(self) -> int:
        """Pixels in the line buffer, the incoming one included."""
        kh, kw = self.kernel
        return (kh - 1) * self.wp + kw

    @property
    def steps(self) -> int:
        """Cycles per image at full rate: one padded position per cycle."""
        return self.hp * self.wp

    @property
    def ends(self) -> list:
        """The step at which each window is complete."""
        return window_steps((self.channels, self.height, self.width), self.kernel, self.stride, self.pads)[1]

    @property
    def windows(self) -> int:
        return self.out_h * self.out_w

    @property
    def i_width(self) -> int:
        return self.pixel_bits

    @property
    def o_width(self) -> int:
        return self.kernel[0] * self.kernel[1] * self.pixel_bits

    latency = 1  # cycles from the step that completes a window to the window offered (its register)

    @property
    def register_bits(self) -> int:
        """The line buffer (a shift register: SRL/LUTRAM on FPGAs), the row and column counters and
        the window register."""
        chain = (self.length - 1) * self.pixel_bits
        return chain + range_bits(max(2, self.hp)) + range_bits(max(2, self.wp)) + 1 + self.o_width

    memory_bits = 0
