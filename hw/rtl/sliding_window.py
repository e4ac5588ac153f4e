import numpy as np
from amaranth import Array, Cat, Const, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..plan.window import WindowPlan

__all__ = ["SlidingWindow"]


class SlidingWindow(wiring.Component):
    """Sliding-window generator: a stream of pixels in, a stream of k x k windows out.

    Pixels arrive in raster order, one per beat, ``channels`` elements of ``element_bits`` each,
    images back to back. The unit walks the padded image (``pads`` = top, left, bottom, right),
    shifting one pixel per cycle into a line buffer of ``(kh - 1) * padded_width + kw`` pixels:
    an input pixel, or ``pad_value`` where the position lies in the border (no input is consumed
    there). After each shift that completes a window at a stride-aligned position, the window is
    read from fixed taps of the line buffer and emitted. A shift register maps to SRL/LUTRAM.

    Members
    -------
    i : ``In(stream.Signature(channels * element_bits))``
    o : ``Out(stream.Signature(kh * kw * channels * element_bits))``
        Window pixel ``(r, c)`` (r-th row, c-th column of the window) is pixel ``r * kw + c``.
    """

    def __init__(self, plan: WindowPlan):
        self.plan = plan
        super().__init__({"i": In(stream.Signature(plan.i_width)), "o": Out(stream.Signature(plan.o_width))})

    def elaborate(self, platform):
        m = Module()
        plan = self.plan
        kh, kw = plan.kernel
        sh, sw = plan.stride
        t, l, _, _ = plan.pads
        pb = plan.pixel_bits
        length = plan.length
        hp, wp, height, width, out_h, out_w = plan.hp, plan.wp, plan.height, plan.width, plan.out_h, plan.out_w
        chain = Signal(max(1, (length - 1) * pb))  # pixels 1 .. length-1 (0 is the incoming one)
        row = Signal(range(max(2, hp)))
        col = Signal(range(max(2, wp)))
        # per-row / per-column flags, precomputed: inside the image? does a window end here?
        rows_in = [t <= r < t + height for r in range(hp)]
        cols_in = [l <= c < l + width for c in range(wp)]
        rows_end = [r >= kh - 1 and (r - kh + 1) % sh == 0 and (r - kh + 1) // sh < out_h
                    for r in range(hp)]
        cols_end = [c >= kw - 1 and (c - kw + 1) % sw == 0 and (c - kw + 1) // sw < out_w
                    for c in range(wp)]
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
        pad_pixel = Const(int(np.uint64(plan.pad_value & ((1 << plan.element_bits) - 1))), plan.element_bits)
        pixel = Signal(pb)
        m.d.comb += pixel.eq(Mux(is_pad, Cat(*([pad_pixel] * plan.channels)), self.i.payload))
        full = Signal(length * pb)  # newest pixel at offset 0
        m.d.comb += full.eq(Cat(pixel, chain))
        taps = []
        for r in range(kh):
            for c in range(kw):
                off = (kh - 1 - r) * wp + (kw - 1 - c)
                tap = Signal(pb, name=f"tap{r}_{c}")
                m.d.comb += tap.eq(full[off * pb:(off + 1) * pb])
                taps.append(tap)
        with m.If(self.o.ready):
            m.d.sync += self.o.valid.eq(0)
        with m.If(step):
            if length > 1:
                m.d.sync += chain.eq(full[:(length - 1) * pb])
            last_col = col == wp - 1
            m.d.sync += col.eq(Mux(last_col, 0, col + 1))
            with m.If(last_col):
                m.d.sync += row.eq(Mux(row == hp - 1, 0, row + 1))
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
