import numpy as np
from amaranth import Array, Cat, Const, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..errors import BitfoldError

__all__ = ["SlidingWindow"]


class SlidingWindow(wiring.Component):
    """Sliding-window generator: a stream of pixels in, a stream of k x k windows out.

    Pixels arrive in raster order, one per beat, ``channels`` elements of ``element_bits`` each,
    images back to back. The unit walks the padded image (``pads`` = top, left, bottom, right),
    shifting one pixel per cycle into a line buffer of ``(kh - 1) * padded_width + kw`` pixels:
    an input pixel, or ``pad_value`` where the position lies in the border (no input is consumed
    there). After each shift that completes a window at a stride-aligned position, the window is
    read from fixed taps of the line buffer and emitted. A shift register maps to SRL/LUTRAM.

    Parameters
    ----------
    channels, element_bits : int
    height, width : int
        Image size without padding.
    kernel, stride : tuple of int
    pads : tuple of int
        (top, left, bottom, right).
    pad_value : int
        Element code of the border (for binary pixels: 0 is -1, 1 is +1).

    Members
    -------
    i : ``In(stream.Signature(channels * element_bits))``
    o : ``Out(stream.Signature(kh * kw * channels * element_bits))``
        Window pixel ``(r, c)`` (r-th row, c-th column of the window) is pixel ``r * kw + c``.
    """

    def __init__(self, channels, element_bits, height, width, kernel, stride=(1, 1), pads=(0, 0, 0, 0),
                 pad_value=0, name="swg"):
        self.channels, self.element_bits = int(channels), int(element_bits)
        self.height, self.width = int(height), int(width)
        self.kernel, self.stride, self.pads = tuple(kernel), tuple(stride), tuple(pads)
        self.pad_value, self.name = int(pad_value), name
        kh, kw = self.kernel
        t, l, b, r = self.pads
        self.hp, self.wp = self.height + t + b, self.width + l + r
        if kh > self.hp or kw > self.wp or min(self.kernel + self.stride) < 1:
            raise BitfoldError(f"{name}: kernel {self.kernel} does not fit a padded image of {self.hp}x{self.wp}")
        self.out_h = (self.hp - kh) // self.stride[0] + 1
        self.out_w = (self.wp - kw) // self.stride[1] + 1
        self.pixel_bits = self.channels * self.element_bits
        super().__init__({
            "i": In(stream.Signature(self.pixel_bits)),
            "o": Out(stream.Signature(kh * kw * self.pixel_bits)),
        })

    @property
    def steps_per_image(self) -> int:
        """Cycles per image at full rate: one padded position per cycle."""
        return self.hp * self.wp

    @property
    def windows_per_image(self) -> int:
        return self.out_h * self.out_w

    @property
    def register_bits(self) -> int:
        """The line buffer (a shift register: SRL/LUTRAM on FPGAs), counters and the window register."""
        kh, kw = self.kernel
        length = (kh - 1) * self.wp + kw
        return (length - 1) * self.pixel_bits + kh * kw * self.pixel_bits + 1 + \
            max(1, (self.hp - 1).bit_length()) + max(1, (self.wp - 1).bit_length())

    memory_bits = 0

    def elaborate(self, platform):
        m = Module()
        kh, kw = self.kernel
        sh, sw = self.stride
        t, l, _, _ = self.pads
        pb = self.pixel_bits
        length = (kh - 1) * self.wp + kw
        chain = Signal(max(1, (length - 1) * pb))  # pixels 1 .. length-1 (0 is the incoming one)
        row = Signal(range(max(2, self.hp)))
        col = Signal(range(max(2, self.wp)))
        # per-row / per-column flags, precomputed: inside the image? does a window end here?
        rows_in = [t <= r < t + self.height for r in range(self.hp)]
        cols_in = [l <= c < l + self.width for c in range(self.wp)]
        rows_end = [r >= kh - 1 and (r - kh + 1) % sh == 0 and (r - kh + 1) // sh < self.out_h
                    for r in range(self.hp)]
        cols_end = [c >= kw - 1 and (c - kw + 1) % sw == 0 and (c - kw + 1) // sw < self.out_w
                    for c in range(self.wp)]
        is_pad = Signal()
        emit = Signal()
        m.d.comb += [
            is_pad.eq(~(_lut(rows_in, row) & _lut(cols_in, col))),
            emit.eq(_lut(rows_end, row) & _lut(cols_end, col)),
        ]
        can_emit = Signal()
        m.d.comb += can_emit.eq(~self.o.valid | self.o.ready)
        m.d.comb += self.i.ready.eq(~is_pad & (~emit | can_emit))
        step = Signal()
        m.d.comb += step.eq((is_pad | self.i.valid) & (~emit | can_emit))
        pad_pixel = Const(int(np.uint64(self.pad_value & ((1 << self.element_bits) - 1))), self.element_bits)
        pixel = Signal(pb)
        m.d.comb += pixel.eq(Mux(is_pad, Cat(*([pad_pixel] * self.channels)), self.i.payload))
        full = Signal(length * pb)  # newest pixel at offset 0
        m.d.comb += full.eq(Cat(pixel, chain))
        taps = []
        for r in range(kh):
            for c in range(kw):
                off = (kh - 1 - r) * self.wp + (kw - 1 - c)
                tap = Signal(pb, name=f"tap{r}_{c}")
                m.d.comb += tap.eq(full[off * pb:(off + 1) * pb])
                taps.append(tap)
        with m.If(self.o.ready):
            m.d.sync += self.o.valid.eq(0)
        with m.If(step):
            if length > 1:
                m.d.sync += chain.eq(full[:(length - 1) * pb])
            last_col = col == self.wp - 1
            m.d.sync += col.eq(Mux(last_col, 0, col + 1))
            with m.If(last_col):
                m.d.sync += row.eq(Mux(row == self.hp - 1, 0, row + 1))
            with m.If(emit):
                m.d.sync += [self.o.valid.eq(1), self.o.payload.eq(Cat(*taps))]
        return m


def _lut(flags, index):
    """A constant bit table indexed by a signal (all-true / all-false tables fold away)."""
    if all(flags):
        return Const(1, 1)
    if not any(flags):
        return Const(0, 1)
    return Array(Const(int(f), 1) for f in flags)[index]
