"""A sliding-window generator (built by :class:`hw.rtl.sliding_window.SlidingWindow`)."""

from dataclasses import dataclass
from functools import cached_property

from ..errors import BitfoldError
from .memory import range_bits
from .stream import FLOPS_PER_ENABLE

__all__ = ["WindowPlan", "window_steps"]


def window_steps(in_shape, kernel, stride, pads, in_pixels=1, windows=1):
    """The window walk over one padded image: ``(steps, [step index at which each group of windows
    is complete])``, one step per input word of ``in_pixels`` padded pixels, groups of ``windows``
    adjacent windows of an output row (see :class:`WindowPlan`)."""
    _, h, w = in_shape
    kh, kw = kernel
    sh, sw = stride
    t, l, b, r = pads
    hp, wp = h + t + b, w + l + r
    oh, ow = (hp - kh) // sh + 1, (wp - kw) // sw + 1
    words = wp // in_pixels
    span = (windows - 1) * sw + kw - 1  # from a group's first column to its last
    ends = [(kh - 1 + i * sh) * words + (g * windows * sw + span) // in_pixels
            for i in range(oh) for g in range(ow // windows)]
    return hp * words, ends


@dataclass(frozen=True)
class WindowPlan:
    """Pixels in, windows out.

    Pixels arrive in raster order, ``in_pixels`` (P) adjacent pixels of a row per beat, each of
    ``channels`` elements of ``element_bits``, images back to back. The unit walks the padded image
    (``pads`` = top, left, bottom, right) one word of P padded pixels per step, shifting an input
    word (or a word of ``pad_value`` in the border, consuming no input) into a line buffer, and
    after each step that completes a group of ``windows`` (M) adjacent windows of an output row,
    emits the group from fixed taps of the line buffer: window ``m`` of the group at output column
    ``g * M + m``. A group starts at input column ``g * M * stride``; that every group starts at a
    word boundary and completes at the same place in its word (so the taps are fixed) is what the
    constraints below guarantee.

    Constraints: P divides the image width and the left and right pads (a word is all pixels or all
    pad); M divides the output width; ``M * stride`` is a multiple of P (a group spans whole words).
    """

    name: str
    channels: int
    element_bits: int
    height: int
    width: int
    kernel: tuple
    stride: tuple = (1, 1)
    pads: tuple = (0, 0, 0, 0)
    pad_value: int = 0
    in_pixels: int = 1
    windows: int = 1

    def __post_init__(self):
        for f in ("channels", "element_bits", "height", "width", "pad_value", "in_pixels", "windows"):
            object.__setattr__(self, f, int(getattr(self, f)))
        for f in ("kernel", "stride", "pads"):
            object.__setattr__(self, f, tuple(int(v) for v in getattr(self, f)))
        kh, kw = self.kernel
        if kh > self.hp or kw > self.wp or min(self.kernel + self.stride) < 1:
            raise BitfoldError(f"{self.name}: kernel {self.kernel} does not fit a padded image of {self.hp}x{self.wp}")
        p, m = self.in_pixels, self.windows
        _, l, _, r = self.pads
        if p < 1 or self.width % p or l % p or r % p:
            raise BitfoldError(f"{self.name}: {p} pixels per beat must divide the image width {self.width}"
                               + (f" and the left and right pads {l}, {r}" if l or r else "")
                               + f"; valid: {', '.join(map(str, self.valid_in_pixels))}")
        if m < 1 or self.out_w % m:
            raise BitfoldError(f"{self.name}: {m} windows per cycle must divide the output width {self.out_w}; "
                               f"valid: {', '.join(str(d) for d in range(1, self.out_w + 1) if self.out_w % d == 0)}")
        if (m * self.stride[1]) % p:
            raise BitfoldError(f"{self.name}: a group of {m} windows at stride {self.stride[1]} spans "
                               f"{m * self.stride[1]} columns, not a multiple of the {p} pixels per beat")

    @property
    def valid_in_pixels(self) -> list:
        _, l, _, r = self.pads
        return [d for d in range(1, self.width + 1) if self.width % d == 0 and l % d == 0 and r % d == 0]

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
    def window_bits(self) -> int:
        return self.kernel[0] * self.kernel[1] * self.pixel_bits

    @property
    def words_per_row(self) -> int:
        return self.wp // self.in_pixels

    @property
    def last_tap(self) -> int:
        """Offset of the oldest pixel a group needs from the newest pixel of the word that completes
        it: the line buffer's length - 1."""
        return (self.kernel[0] - 1) * self.wp + self.word_end

    @property
    def word_end(self) -> int:
        """Offset of a group's first column from the last pixel of the word that completes it."""
        p = self.in_pixels
        span = (self.windows - 1) * self.stride[1] + self.kernel[1] - 1
        return span // p * p + p - 1

    def tap(self, m, r, c) -> int:
        """Line-buffer offset (0: the newest pixel) of pixel (r, c) of window ``m`` of a group, at the
        step that completes the group."""
        return (self.kernel[0] - 1 - r) * self.wp + self.word_end - m * self.stride[1] - c

    @property
    def length(self) -> int:
        """Pixels in the line buffer, the incoming word included."""
        return self.last_tap + 1

    @property
    def steps(self) -> int:
        """Cycles per image at full rate: one padded word per cycle."""
        return self.hp * self.words_per_row

    @cached_property
    def ends(self) -> tuple:
        """The step at which each group of windows is complete."""
        return tuple(window_steps((self.channels, self.height, self.width), self.kernel, self.stride, self.pads,
                                  self.in_pixels, self.windows)[1])

    @property
    def groups(self) -> int:
        """Groups of windows per image (beats on ``o``)."""
        return self.out_h * self.out_w // self.windows

    @property
    def i_width(self) -> int:
        return self.in_pixels * self.pixel_bits

    @property
    def o_width(self) -> int:
        return self.windows * self.window_bits

    latency = 1  # cycles from the step that completes a group to the group offered (its register)

    @property
    def chain_bits(self) -> int:
        """The line buffer's bits past the incoming word."""
        return (self.length - self.in_pixels) * self.pixel_bits

    @property
    def lanes(self) -> int:
        """Bit lanes of the line buffer: each bit of each of the P pixels of a word shifts along
        its own lane (bit ``i`` of the buffer to bit ``i + lanes``)."""
        return self.in_pixels * self.pixel_bits

    @property
    def chain_copies(self) -> int:
        """Copies of the step enable for the line buffer, one per :data:`FLOPS_PER_ENABLE` bits,
        each driving whole lanes (a lane under one enable maps to shift-register cells on xc7)."""
        return min(-(-self.chain_bits // FLOPS_PER_ENABLE), self.lanes)

    @property
    def window_copies(self) -> int:
        """Copies of the emit enable for the window register, one per :data:`FLOPS_PER_ENABLE` bits."""
        return -(-self.o_width // FLOPS_PER_ENABLE)

    @property
    def enable_copies(self) -> int:
        """Copies of the border, emit and output-valid flags, each with its own enable LUT driving a
        slice of the line buffer or of the window register (none when one enable drives them all)."""
        n = self.chain_copies + self.window_copies
        return n if n > 2 else 0

    @property
    def register_bits(self) -> int:
        """The line buffer (a shift register: SRL/LUTRAM on FPGAs), the row and word counters, the
        border and emit flags and their copies, and the window register."""
        return (self.chain_bits + range_bits(max(2, self.hp)) + range_bits(max(2, self.words_per_row)) + 2 + 1
                + 3 * self.enable_copies + self.o_width)

    memory_bits = 0
