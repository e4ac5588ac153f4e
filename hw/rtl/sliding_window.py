import numpy as np
from amaranth import Array, Cat, Const, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from ..plan.stream import spans
from ..plan.window import WindowPlan

__all__ = ["SlidingWindow"]


class SlidingWindow(wiring.Component):
    """Sliding-window generator (:class:`~hw.plan.window.WindowPlan`): words of ``P`` pixels in,
    groups of ``M`` windows out.

    Pixels arrive in raster order, P adjacent pixels of a row per beat (pixel ``j`` of a word in
    bits ``[j*pb, (j+1)*pb)``), images back to back. The unit walks the padded image one word per
    cycle, shifting an input word, or a word of the pad value where the position lies in the border
    (no input is consumed there), into a line buffer; after each step that completes a group of
    windows, the group is read from fixed taps of the line buffer and emitted. A shift register
    maps to SRL/LUTRAM.

    Members
    -------
    i : ``In(stream.Signature(P * channels * element_bits))``
    o : ``Out(stream.Signature(M * kh * kw * channels * element_bits))``
        Window ``m`` of the group in bits ``[m*wb, (m+1)*wb)``; in a window, pixel ``(r, c)`` (r-th
        row, c-th column) is pixel ``r * kw + c``.
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
        pb, P, M = plan.pixel_bits, plan.in_pixels, plan.windows
        length = plan.length
        hp, words = plan.hp, plan.words_per_row
        # pixels P .. length-1 (0 .. P-1: the incoming word); no reset (a window never reads a pixel
        # from before the image), so xc7 maps its runs between taps to shift-register cells
        chain = Signal(max(1, (length - P) * pb), reset_less=True)
        row = Signal(range(max(2, hp)))
        col = Signal(range(max(2, words)))  # word column
        # per-row / per-word-column flags, precomputed: inside the image? does a group end here?
        rows_in = [t <= r < t + plan.height for r in range(hp)]
        cols_in = [l // P <= c < (l + plan.width) // P for c in range(words)]
        ends = {e % words for e in plan.ends}
        rows_end = [r >= kh - 1 and (r - kh + 1) % sh == 0 and (r - kh + 1) // sh < plan.out_h for r in range(hp)]
        cols_end = [c in ends for c in range(words)]
        # ``is_pad`` (the position lies in the border) and ``emit`` (a step here completes a group)
        # are registers, loaded on each step from the tables at the next position, so ``step`` and
        # ``i.ready`` start at flip-flops rather than behind two table lookups. (``keep`` where they
        # have copies: a guard, as for the MVTU's copies; these feed back on themselves, so Yosys
        # 0.70 keeps them apart without it.)
        keep = {"keep": 1} if plan.enable_copies else {}
        is_pad = Signal(init=int(not (rows_in[0] and cols_in[0])), attrs=keep)
        emit = Signal(init=int(rows_end[0] and cols_end[0]), attrs=keep)
        can_emit = Signal()
        m.d.comb += can_emit.eq(~self.o.valid | self.o.ready)
        m.d.comb += self.i.ready.eq(~is_pad & (~emit | can_emit))
        step = Signal()
        pad_pixel = Const(int(np.uint64(plan.pad_value & ((1 << plan.element_bits) - 1))), plan.element_bits)
        word = Signal(P * pb)
        m.d.comb += word.eq(Mux(is_pad, Cat(*([pad_pixel] * (plan.channels * P))), self.i.payload))
        full = Signal(length * pb)  # offset 0: the newest pixel (the last of the incoming word)
        m.d.comb += full.eq(Cat(*[word[j * pb:(j + 1) * pb] for j in reversed(range(P))], chain))
        taps = []
        for w in range(M):
            for r in range(kh):
                for c in range(kw):
                    off = plan.tap(w, r, c)
                    tap = Signal(pb, name=f"tap{w}_{r}_{c}")
                    m.d.comb += tap.eq(full[off * pb:(off + 1) * pb])
                    taps.append(tap)
        last_col = col == words - 1
        next_col = Mux(last_col, 0, col + 1)
        next_row = Mux(last_col, Mux(row == hp - 1, 0, row + 1), row)
        next_pad = ~(_lut(rows_in, next_row) & _lut(cols_in, next_col))
        next_emit = _lut(rows_end, next_row) & _lut(cols_end, next_col)

        def advance(pad, em, valid, st):
            """Step ``st`` of a set of border, emit and valid flags (the unit's own or a copy), and
            the flags' next values."""
            m.d.comb += st.eq((pad | self.i.valid) & (~em | ~valid | self.o.ready))
            with m.If(self.o.ready):
                m.d.sync += valid.eq(0)
            with m.If(st):
                m.d.sync += [pad.eq(next_pad), em.eq(next_emit)]
                with m.If(em):
                    m.d.sync += valid.eq(1)

        advance(is_pad, emit, self.o.valid, step)
        with m.If(step):
            m.d.sync += [col.eq(next_col), row.eq(next_row)]
        # the line buffer and the window register, in slices of at most FLOPS_PER_ENABLE bits; with
        # ``plan.enable_copies``, each slice is enabled from its own copies of the border, emit and
        # valid flags (``keep``), so no flag or enable drives the whole buffer across the die
        # (the line buffer by lanes, bits i, i + lanes, i + 2 * lanes, ...: a lane shifts under one enable)
        slices = [(chain, full, _lane_bits(slice(lo, hi), plan.lanes, plan.chain_bits))
                  for lo, hi in spans(plan.lanes, plan.chain_copies)]
        slices += [(self.o.payload, Cat(*taps), [slice(lo, hi)]) for lo, hi in spans(plan.o_width, plan.window_copies)]
        for c, (reg, value, sls) in enumerate(slices):
            step_c, emit_c = step, emit
            if plan.enable_copies:
                pad_c = Signal(init=is_pad.init, attrs=keep, name=f"pad_{c}")
                emit_c = Signal(init=emit.init, attrs=keep, name=f"emit_{c}")
                valid_c = Signal(attrs=keep, name=f"valid_{c}")
                step_c = Signal(name=f"step_{c}")
                advance(pad_c, emit_c, valid_c, step_c)
            # the line buffer shifts on every step, the window register loads on a step that emits
            with m.If(step_c & (emit_c if reg is self.o.payload else 1)):
                m.d.sync += [reg[sl].eq(value[sl]) for sl in sls]
        return m


def _lane_bits(lanes, width, bits):
    """The slices of a ``bits``-bit line buffer that hold ``lanes`` (a slice of ``range(width)``)."""
    return [slice(r + lanes.start, min(r + lanes.stop, bits)) for r in range(0, bits, width) if r + lanes.start < bits]


def _lut(flags, index):
    """A constant bit table indexed by a signal (all-true / all-false tables fold away)."""
    if all(flags):
        return Const(1, 1)
    if not any(flags):
        return Const(0, 1)
    return Array(Const(int(f), 1) for f in flags)[index]
